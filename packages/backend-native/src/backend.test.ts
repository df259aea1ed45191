import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { maxRelDiff, nativeReady, runOn } from './testing/compare.js';
import { describeNative, nativeAvailable, nativeUnavailableReason } from './backend.js';
import { encoderBatch, encoderStep, initEncoder, type EncoderConfig } from './bench/encoder.js';

const ready = nativeReady();

describe('native backend availability', () => {
  it('reports a reason when unavailable and a BLAS description when available', () => {
    if (nativeAvailable()) expect(describeNative()).toMatch(/OpenBLAS.*\d+ threads?/);
    else expect(nativeUnavailableReason()).toMatch(/addon/);
  });
});

describe.skipIf(!ready)('native backend end to end (vs cpu)', () => {
  it('embedding gradient (UnsortedSegmentSum) matches', async () => {
    const f = () => {
      const table = tf.tensor2d(
        Array.from({ length: 30 }, (_, i) => i / 10),
        [10, 3],
      );
      const ids = tf.tensor1d([1, 4, 4, 9, 0, 1], 'int32');
      return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), tf.tensor1d([1, 2, 3]))))(table);
    };
    const [ref] = await runOn('cpu', f);
    const [got] = await runOn('native', f);
    expect(maxRelDiff(got!, ref!)).toBeLessThan(1e-6);
  });

  it('a tiny transformer training step has the same loss and gradients', async () => {
    const cfg: EncoderConfig = { vocab: 40, hidden: 16, layers: 2, heads: 2, ffn: 32, seq: 6, labels: 3 };
    const step = () => {
      const p = initEncoder(cfg);
      const { ids, labels } = encoderBatch(cfg, 3);
      const { loss, grads } = encoderStep(cfg, p, ids, labels);
      const outs = [loss, ...grads].map((t) => tf.clone(t));
      p.forEach((v) => v.dispose());
      return outs;
    };
    const ref = await runOn('cpu', step);
    const got = await runOn('native', step);
    expect(got.length).toBe(ref.length);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, maxRelDiff(got[i]!, ref[i]!));
    expect(worst).toBeLessThan(1e-4);
  });
});
