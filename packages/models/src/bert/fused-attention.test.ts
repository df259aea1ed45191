/**
 * Attention on the packed projection (`DistilleryAttentionPacked` and its gradient, native backend) against the
 * unfused native ops it replaces: the split into q, k, v, head transposes, the scores product,
 * `DistilleryAttentionSoftmax`, `DistilleryDropout` and the context product. Same Philox attributes, so the same
 * dropout mask: values and gradients must agree, with the probabilities differentiated (an attention loss reads
 * them: the registered gradient) and without (the single-output op).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { probeBackends } from '@distillery/core';
import { runFusedKernel, type DropoutAttrs } from '@distillery/core/kernels';
import { BertForSequenceClassification } from './bert.model.js';
import { bertConfig } from './bert.config.js';
import { FUSED, fusedAttentionPacked, fusedAttentionSoftmax, fusedDropout } from './fused-ops.js';

const native = (await probeBackends()).find((p) => p.name === 'native');
const ready = native?.available === true;
if (!ready && (process.env.CI === 'true' || process.env.CI === '1')) {
  throw new Error(`CI=true requires the native backend, but it is unavailable: ${native?.detail ?? 'not probed'}`);
}

const [B, L, H, DH] = [2, 5, 2, 4];
const D = H * DH;
const scale = 1 / Math.sqrt(DH);

function rand(shape: number[], seed: number): tf.Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Array.from({ length: n }, () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return (s / 2147483648) * 2 - 1;
    }),
    shape,
  );
}

/** Additive mask [B, 1, 1, L]: the last key of the second example is padding. */
const maskOf = () =>
  tf.tensor4d(
    Array.from({ length: B * L }, (_, i) => (i === B * L - 1 ? -10000 : 0)),
    [B, 1, 1, L],
  );

/** probs and ctx of the unfused path (native kernels), as the BERT encoder wrote them before the fused one. */
function unfused(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor, drop: DropoutAttrs) {
  const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, L, H, DH]), [0, 2, 1, 3]);
  const probs = fusedAttentionSoftmax(tf.matMul(heads(q), heads(k), false, true), mask, scale);
  const dropped = drop.rate > 0 ? fusedDropout(probs, drop) : probs;
  const ctx = tf.reshape(tf.transpose(tf.matMul(dropped, heads(v)), [0, 2, 1, 3]), [B, L, D]);
  return { probs, ctx };
}

function fused(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor, drop: DropoutAttrs) {
  const { ctx, probs } = fusedAttentionPacked(tf.concat([q, k, v], 2), mask, H, scale, drop, true);
  return { probs: probs!, ctx };
}

/** [probs, ctx, dq, dk, dv] of a loss that weighs both outputs (the attention losses read probs). */
function valuesAndGrads(path: typeof fused, drop: DropoutAttrs): Float32Array[] {
  return tf.tidy(() => {
    const [q, k, v] = [rand([B, L, D], 1), rand([B, L, D], 2), rand([B, L, D], 3)];
    const mask = maskOf();
    const [wc, wp] = [rand([B, L, D], 4), rand([B, H, L, L], 5)];
    const outs = path(q, k, v, mask, drop);
    const g = tf.grads((qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor) => {
      const o = path(qi, ki, vi, mask, drop);
      return tf.add(tf.sum(tf.mul(o.ctx, wc)), tf.sum(tf.mul(o.probs, wp)));
    })([q, k, v]);
    return [outs.probs, outs.ctx, ...g].map((t) => Float32Array.from(t.dataSync()));
  });
}

/** [dq, dk, dv] of a loss on ctx alone: the packed op without probs (one output, probs kept for the gradient). */
function ctxGrads(packed: boolean, drop: DropoutAttrs): Float32Array[] {
  return tf.tidy(() => {
    const [q, k, v] = [rand([B, L, D], 1), rand([B, L, D], 2), rand([B, L, D], 3)];
    const mask = maskOf();
    const wc = rand([B, L, D], 4);
    const g = tf.grads((qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor) => {
      const ctx = packed
        ? fusedAttentionPacked(tf.concat([qi, ki, vi], 2), mask, H, scale, drop, false).ctx
        : unfused(qi, ki, vi, mask, drop).ctx;
      return tf.sum(tf.mul(ctx, wc));
    })([q, k, v]);
    return g.map((t) => Float32Array.from(t.dataSync()));
  });
}

function worstRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}

describe.skipIf(!ready)('training attention kernels on native (vs the unfused native ops)', () => {
  for (const drop of [
    { rate: 0, seed: 0, stream: 0, counter: 0 },
    { rate: 0.3, seed: 7, stream: 2, counter: 1 },
  ]) {
    it(`values and gradients of q, k, v (dropout rate ${drop.rate})`, async () => {
      await tf.setBackend('native');
      const before = tf.memory().numTensors;
      const got = valuesAndGrads(fused, drop);
      const ref = valuesAndGrads(unfused, drop);
      const gotCtx = ctxGrads(true, drop);
      const refCtx = ctxGrads(false, drop);
      expect(tf.memory().numTensors).toBe(before);
      expect(got.map((a) => a.length)).toEqual(ref.map((a) => a.length));
      for (let i = 0; i < ref.length; i++) expect(worstRelDiff(got[i]!, ref[i]!)).toBeLessThan(1e-5);
      for (let i = 0; i < refCtx.length; i++) expect(worstRelDiff(gotCtx[i]!, refCtx[i]!)).toBeLessThan(1e-5);
      // Dropout really dropped something (so the mask, not only the softmax, is compared).
      if (drop.rate > 0)
        expect(worstRelDiff(valuesAndGrads(fused, { ...drop, rate: 0 })[1]!, got[1]!)).toBeGreaterThan(1e-3);
    });
  }

  it('the BERT encoder uses them when training (no head transposes), with the same dropout sites', async () => {
    await tf.setBackend('native');
    const cfg = bertConfig({
      vocabSize: 50,
      hiddenSize: D,
      numHiddenLayers: 2,
      numAttentionHeads: H,
      intermediateSize: 16,
      maxPositionEmbeddings: 16,
    });
    const batch = {
      batchSize: B,
      seqLen: L,
      inputIds: Int32Array.from({ length: B * L }, (_, i) => (i * 7) % 50),
      attentionMask: Int32Array.from({ length: B * L }, (_, i) => (i === B * L - 1 ? 0 : 1)),
      tokenTypeIds: new Int32Array(B * L),
      labels: Int32Array.from([0, 1]),
    };
    const make = () => new BertForSequenceClassification(cfg, { seed: 9, dropoutSeed: 11 });
    const model = make();
    const params = Object.values(model.parameters());
    let first = NaN;
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => model.forward(batch, { training: true }).loss!, params);
      first = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads)]);
    });
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((n) => n === FUSED.attentionPacked)).toHaveLength(2);
    expect(names.filter((n) => n === FUSED.attentionPackedGrad)).toHaveLength(2);
    expect(names).not.toContain('Transpose');
    expect(names).not.toContain(FUSED.attentionSoftmax);
    // A second model with the same seeds draws the same masks in its first pass (the unseeded path would not).
    const again = make();
    expect(tf.tidy(() => again.forward(batch, { training: true }).loss!.dataSync()[0])).toBe(first);
    const eval0 = tf.tidy(() => again.forward(batch, { training: false }).loss!.dataSync()[0]);
    expect(eval0).not.toBe(first);
    model.dispose();
    again.dispose();
  });

  it('a wrong mask shape names the kernel and the shape it needs', async () => {
    await tf.setBackend('native');
    const attrs = { numHeads: H, scale, rate: 0, seed: 0, stream: 0, counter: 0 };
    expect(() =>
      tf.tidy(() =>
        runFusedKernel(FUSED.attentionPacked, { qkv: rand([B, L, 3 * D], 1), mask: tf.zeros([B, L]) }, attrs),
      ),
    ).toThrow(`DistilleryAttentionPacked: mask must be [${B}, 1, 1, ${L}], got [${B}, ${L}]`);
  });
});
