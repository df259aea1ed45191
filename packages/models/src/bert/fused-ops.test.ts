/**
 * LayerNorm and GELU through the fused kernels of the 'native' backend (`@distillery/backend-native`, when its
 * addon is built) against the plain tfjs ops on cpu: values and gradients.
 */
import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import {
  activation,
  dropoutAddLayerNorm,
  embeddingLookup,
  layerNorm,
  linear,
  linearActivation,
  makeDropout,
} from './layers.js';
import { BertForSequenceClassification } from './bert.model.js';
import { bertConfig } from './bert.config.js';
import { FUSED, fusedAvailable } from './fused-ops.js';
import type { ParamStore } from './params.js';
import { probeBackends } from '@distillery/core';

// core's backend probe loads @distillery/backend-native optionally and registers 'native' when its addon is built.
const native = (await probeBackends()).find((p) => p.name === 'native');
const ready = native?.available === true;
// Under CI=true the native backend must load: a missing or broken addon fails this file instead of skipping it.
if (!ready && (process.env.CI === 'true' || process.env.CI === '1')) {
  throw new Error(`CI=true requires the native backend, but it is unavailable: ${native?.detail ?? 'not probed'}`);
}

function values(n: number, seed: number, scale = 1, shift = 0): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return ((s / 2147483648) * 2 - 1) * scale + shift;
  });
}

async function runOn(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(fn);
  const vals = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  return vals;
}

function expectClose(got: Float32Array[], ref: Float32Array[]): void {
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    let worst = 0;
    for (let j = 0; j < ref[i]!.length; j++)
      worst = Math.max(worst, Math.abs(got[i]![j]! - ref[i]![j]!) / Math.max(1, Math.abs(ref[i]![j]!)));
    expect(worst).toBeLessThan(1e-5);
  }
}

/** A tiny BERT config with `layers` layers and a 2 × 6 batch whose last token is masked (labels 0, 1). */
function tinyBert(layers: number) {
  const cfg = bertConfig({
    vocabSize: 50,
    hiddenSize: 16,
    numHiddenLayers: layers,
    numAttentionHeads: 2,
    intermediateSize: 32,
    maxPositionEmbeddings: 16,
  });
  const batch = {
    batchSize: 2,
    seqLen: 6,
    inputIds: Int32Array.from({ length: 12 }, (_, i) => (i * 7) % 50),
    attentionMask: Int32Array.from({ length: 12 }, (_, i) => (i % 6 === 5 ? 0 : 1)),
    tokenTypeIds: new Int32Array(12),
    labels: Int32Array.from([0, 1]),
  };
  return { cfg, batch };
}

describe.skipIf(!ready)('fused LayerNorm and GELU on native (vs tfjs ops on cpu)', () => {
  it('are used on native, not on cpu', async () => {
    await tf.setBackend('native');
    expect(fusedAvailable(FUSED.layerNorm, FUSED.layerNormGrad) && fusedAvailable(FUSED.gelu, FUSED.geluGrad)).toBe(
      true,
    );
    await tf.setBackend('cpu');
    expect(fusedAvailable(FUSED.layerNorm, FUSED.layerNormGrad) || fusedAvailable(FUSED.gelu, FUSED.geluGrad)).toBe(
      false,
    );
  });

  for (const shape of [
    [2, 5, 16],
    [3, 7],
  ]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const d = shape[shape.length - 1]!;
    it(`layerNorm: value and gradients for x, gamma, beta under variableGrads [${shape.join(', ')}]`, async () => {
      const step = (): tf.Tensor[] => {
        const gamma = tf.variable(tf.tensor1d(values(d, 3, 0.5, 1)), true, `ln${shape.length}.weight`);
        const beta = tf.variable(tf.tensor1d(values(d, 4, 0.5)), true, `ln${shape.length}.bias`);
        const store = { get: (name: string) => (name.endsWith('weight') ? gamma : beta) } as unknown as ParamStore;
        const x = tf.tensor(values(n, 5, 3, 0.7), shape);
        const dy = tf.tensor(values(n, 6), shape);
        const f = (xi: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(layerNorm(store, 'ln', xi, 1e-12), dy));
        const dx = tf.grad(f)(x);
        const { grads } = tf.variableGrads(() => f(x), [gamma, beta]);
        const out = [layerNorm(store, 'ln', x, 1e-12), dx, grads[gamma.name]!, grads[beta.name]!];
        gamma.dispose();
        beta.dispose();
        return out;
      };
      expectClose(await runOn('native', step), await runOn('cpu', step));
    });
  }

  it('activation gelu: value and gradient', async () => {
    const step = (): tf.Tensor[] => {
      const x = tf.tensor(values(6 * 40, 7, 5), [6, 40]);
      const dy = tf.tensor(values(6 * 40, 8), [6, 40]);
      return [activation('gelu', x), tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(activation('gelu', xi), dy)))(x)];
    };
    expectClose(await runOn('native', step), await runOn('cpu', step));
  });
});

describe.skipIf(!ready)(
  'fused dropout, dropout+add+LayerNorm and attention softmax on native (vs tfjs ops on cpu)',
  () => {
    /** The native dropout mask of `shape` for the k-th site of pass `pass` with seed 7 (dropout of ones). */
    async function maskOf(shape: number[], rate: number, site: number, pass: number): Promise<Float32Array> {
      return (
        await runOn('native', () => {
          const drop = makeDropout(true, 7, pass);
          for (let i = 0; i < site; i++) drop.philox!(rate);
          return [drop(tf.ones(shape), rate)];
        })
      )[0]!;
    }

    it('makeDropout uses the Philox kernel on native, tf.dropout on cpu; seeded passes are reproducible', async () => {
      await tf.setBackend('native');
      expect(makeDropout(true, 1).mode).toBe('philox');
      expect(makeDropout(false).mode).toBe('off');
      await tf.setBackend('cpu');
      expect(makeDropout(true, 1).mode).toBe('tfjs');
      const a = await maskOf([64, 32], 0.1, 2, 5);
      expect(Array.from(await maskOf([64, 32], 0.1, 2, 5))).toEqual(Array.from(a));
      expect(Array.from(await maskOf([64, 32], 0.1, 2, 6))).not.toEqual(Array.from(a));
      expect(Array.from(await maskOf([64, 32], 0.1, 3, 5))).not.toEqual(Array.from(a));
    });

    it('embedding lookup: the table gradient (native scatter-add) sums repeated ids as cpu does', async () => {
      // Ids repeat (7 five times) and skip rows: those rows get exact zeros.
      const ids = [7, 3, 7, 0, 7, 9, 7, 3, 7, 1];
      const run = () => {
        const table = tf.tensor2d(values(12 * 8, 3), [12, 8]);
        const dy = tf.tensor2d(values(10 * 8, 4), [10, 8]);
        const idx = tf.tensor1d(ids, 'int32');
        const f = (t: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(t, idx), dy));
        return [embeddingLookup(table, idx), tf.grad(f)(table)];
      };
      const got = await runOn('native', run);
      const ref = await runOn('cpu', run);
      expect(Array.from(got[1]!)).toEqual(Array.from(ref[1]!));
      expectClose(got, ref);
    });

    it('dropout: gradient is dy ⊙ mask', async () => {
      const shape = [6, 40];
      const mask = await maskOf(shape, 0.25, 0, 3);
      const got = await runOn('native', () => {
        const x = tf.tensor(values(240, 1), shape);
        const dy = tf.tensor(values(240, 2), shape);
        const f = (xi: tf.Tensor) => tf.sum(tf.mul(makeDropout(true, 7, 3)(xi, 0.25), dy));
        return [makeDropout(true, 7, 3)(x, 0.25), tf.grad(f)(x)];
      });
      const ref = await runOn('cpu', () => {
        const m = tf.tensor(mask, shape);
        return [tf.mul(tf.tensor(values(240, 1), shape), m), tf.mul(tf.tensor(values(240, 2), shape), m)];
      });
      expectClose(got, ref);
    });

    for (const [rate, training] of [
      [0.1, true],
      [0.1, false],
    ] as const) {
      it(`dropoutAddLayerNorm (${training ? 'training' : 'eval'}): value and gradients of x, residual, gamma, beta`, async () => {
        const shape = [3, 5, 16];
        const n = 240;
        const mask = training ? await maskOf(shape, rate, 0, 2) : new Float32Array(n).fill(1);
        const step = (fused: boolean) => (): tf.Tensor[] => {
          const gamma = tf.variable(tf.tensor1d(values(16, 3, 0.5, 1)), true, `daln${training}${fused}.weight`);
          const beta = tf.variable(tf.tensor1d(values(16, 4, 0.5)), true, `daln${training}${fused}.bias`);
          const store = { get: (name: string) => (name.endsWith('weight') ? gamma : beta) } as unknown as ParamStore;
          const x = tf.tensor(values(n, 5, 3, 0.7), shape);
          const res = tf.tensor(values(n, 9), shape);
          const dy = tf.tensor(values(n, 6), shape);
          const m = tf.tensor(mask, shape);
          const f = (xi: tf.Tensor, ri: tf.Tensor) => {
            const y = fused
              ? dropoutAddLayerNorm(store, 'ln', xi, ri, rate, 1e-12, makeDropout(training, 7, 2))
              : layerNorm(store, 'ln', tf.add(tf.mul(xi, m), ri), 1e-12);
            return tf.sum<tf.Scalar>(tf.mul(y, dy));
          };
          const [dx, dr] = tf.grads(f)([x, res]);
          const { grads } = tf.variableGrads(() => f(x, res), [gamma, beta]);
          const out = [dx!, dr!, grads[gamma.name]!, grads[beta.name]!];
          gamma.dispose();
          beta.dispose();
          return out;
        };
        expectClose(await runOn('native', step(true)), await runOn('cpu', step(false)));
      });
    }

    /** Weight [12, 8] and bias [12] of a layer as variables `${name}.weight`/`.bias`, and a store serving them. */
    const layerParams = (name: string, seed: number) => {
      const w = tf.variable(tf.tensor2d(values(12 * 8, seed, 0.5), [12, 8]), true, `${name}.weight`);
      const b = tf.variable(tf.tensor1d(values(12, seed + 1, 0.5)), true, `${name}.bias`);
      const store = { get: (n: string) => (n.endsWith('weight') ? w : b) } as unknown as ParamStore;
      return { w, b, store };
    };

    /**
     * A layer `[3, 5, 8] → [3, 5, 12]` with its weight and bias as variables ({@link layerParams}): its value and
     * the gradients of x, weight and bias against a fixed upstream gradient, as one step for `runOn`.
     */
    const layerStep =
      (name: string, seed: number, layer: (store: ParamStore, name: string, x: tf.Tensor) => tf.Tensor) =>
      (): tf.Tensor[] => {
        const { w, b, store } = layerParams(name, seed);
        const x = tf.tensor(values(3 * 5 * 8, seed + 2, 2), [3, 5, 8]);
        const dy = tf.tensor(values(3 * 5 * 12, seed + 3), [3, 5, 12]);
        const f = (xi: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(layer(store, name, xi), dy));
        const dx = tf.grad(f)(x);
        const { grads } = tf.variableGrads(() => f(x), [w, b]);
        const out = [layer(store, name, x), dx, grads[w.name]!, grads[b.name]!];
        w.dispose();
        b.dispose();
        return out;
      };

    it('linearActivation gelu (fused linear + GELU): value and gradients of x, weight, bias', async () => {
      const step = layerStep('lg', 21, (store, name, x) => linearActivation(store, name, 'gelu', x));
      expectClose(await runOn('native', step), await runOn('cpu', step));
    });

    it('linear (product kernels on [batch, seq, K] as it is, no tf.fused.matMul): value and gradients of x, weight, bias; the kernels it runs', async () => {
      const step = layerStep('ln', 31, linear);
      expectClose(await runOn('native', step), await runOn('cpu', step));

      // The kernels of one training linear on native: forward one product (bias in its epilogue), backward two
      // products and one column sum (tf.fused.matMul and the reshapes around it ran 24 kernels for the same work).
      await tf.setBackend('native');
      const { w, b, store } = layerParams('lk', 31);
      const x = tf.variable(tf.tensor(values(3 * 5 * 8, 33, 2), [3, 5, 8]), true, 'lk.x');
      const before = tf.memory().numTensors;
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(linear(store, 'lk', x)), [x, w, b]);
        tf.dispose([value, grads]);
      });
      const ran = profile.kernels.map((k) => `${k.name} ${JSON.stringify(k.inputShapes)}`);
      // x [3, 5, 8] goes in as it is (no reshapes forward); backward: dx = dy·W on [3, 5, 12], dW and db on the
      // 15 rows as one matrix. The other kernels are the clones customGrad saves and the loss's sum and gradient.
      expect(ran.filter((k) => /MatMul|Sum \[\[15/.test(k))).toEqual([
        '_FusedMatMul [[3,5,8],[12,8],[12]]',
        'BatchMatMul [[3,5,12],[12,8]]',
        'BatchMatMul [[15,12],[15,8]]',
        'Sum [[15,12]]',
      ]);
      expect(ran.length).toBeLessThanOrEqual(13);
      expect(tf.memory().numTensors).toBe(before);
      // Outside a gradient scope only the product kernel runs.
      const inference = await tf.profile(() => tf.dispose(linear(store, 'lk', x)));
      expect(inference.kernels.map((k) => k.name)).toEqual(['_FusedMatMul']);
      tf.dispose([w, b, x]);
    });

    it('encoder layer: fused attention softmax + dropout/add/LN equal the plain ops (eval mode, values and gradients)', async () => {
      const { cfg, batch } = tinyBert(1);
      const step = (): tf.Tensor[] => {
        const model = new BertForSequenceClassification(cfg, { seed: 3 });
        const params = Object.values(model.parameters());
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward(batch, { training: false });
          return tf.add<tf.Scalar>(out.loss!, tf.sum(tf.square(out.attentions[0]!)));
        }, params);
        const out = [value, ...params.map((p) => grads[p.name]!)];
        model.dispose();
        return out;
      };
      expectClose(await runOn('native', step), await runOn('cpu', step));
    });

    it('inference attention (DistilleryAttentionPacked) outside a gradient scope: same logits, hidden states and maps as the plain ops', async () => {
      const { cfg, batch } = tinyBert(2);
      const calls: string[] = [];
      const forward = (): tf.Tensor[] => {
        const model = new BertForSequenceClassification(cfg, { seed: 5, trainable: false });
        const out = model.forward(batch, { training: false });
        const res = [out.logits, ...out.hiddenStates, ...out.attentions];
        tf.keep(res.map((t) => tf.clone(t)));
        model.dispose();
        return res;
      };
      // Count the kernels the forward runs on native: the packed path replaces the three projections' products
      // by one, and the softmax and transposes by one attention kernel.
      await tf.setBackend('native');
      const profile = await tf.profile(() => tf.dispose(tf.tidy(forward)));
      for (const k of profile.kernels) calls.push(k.name);
      expect(calls.filter((n) => n === FUSED.attentionPacked)).toHaveLength(2);
      expect(calls.filter((n) => n === '_FusedMatMul')).toHaveLength(2 * 3 + 2); // qkv, output, FFN out; pooler, classifier
      expect(calls).not.toContain(FUSED.attentionSoftmax);
      expect(calls).not.toContain('Transpose');
      expect(calls.filter((n) => n === FUSED.linearGeluInfer)).toHaveLength(2);
      expect(calls).not.toContain(FUSED.linearGelu);
      expectClose(await runOn('native', forward), await runOn('cpu', forward));
      // Inside a gradient scope the differentiable path runs (the inference GELU kernel has no gradient); the
      // attention's gradient is one kernel per layer.
      await tf.setBackend('native');
      const model = new BertForSequenceClassification(cfg, { seed: 5 });
      const params = Object.values(model.parameters());
      const inTape = await tf.profile(() =>
        tf.dispose(tf.variableGrads(() => tf.sum(model.forward(batch, { training: false }).logits), params).grads),
      );
      model.dispose();
      expect(inTape.kernels.filter((k) => k.name === FUSED.attentionPackedGrad)).toHaveLength(2);
      expect(inTape.kernels.map((k) => k.name)).not.toContain(FUSED.linearGeluInfer);
    });
  },
);
