import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { maxRelDiff, nativeReady, rand, runOn } from '../testing/compare.js';
import { batchIndices } from './matmul.js';
import { loadAddon } from '../addon.js';

const ready = nativeReady();

describe('batchIndices', () => {
  it('broadcasts batch dimensions like numpy', () => {
    const r = batchIndices([2, 1], [3]);
    expect(r.outBatch).toEqual([2, 3]);
    expect(Array.from(r.aIndex)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(r.bIndex)).toEqual([0, 1, 2, 0, 1, 2]);
  });
});

describe.skipIf(!ready)('native BatchMatMul / _FusedMatMul (vs cpu)', () => {
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[2, 3, 4, 5], [2, 3, 5, 6], false, false],
    [[2, 3, 5, 4], [2, 3, 6, 5], true, true],
    [[1, 4, 5], [3, 5, 6], false, false],
    [[2, 3, 4, 5], [1, 6, 5], false, true],
    [[4, 5], [2, 5, 6], false, false],
    [[3, 0], [0, 4], false, false],
    // One matrix b for every batch entry of a: folded into one product of B·M rows.
    [[3, 5, 7], [7, 4], false, false],
    [[2, 3, 5, 7], [1, 4, 7], false, true],
    [[3, 7, 5], [7, 4], true, false],
    [[2, 3, 5, 7], [4, 7], false, true],
    // Large Aᵀ·B (weight gradients): row blocks of C on the pool's threads (gemm.cc SplitRows), M not a
    // multiple of the block, and batched.
    [[300, 200], [300, 150], true, false],
    [[2, 300, 200], [2, 300, 150], true, false],
  ];
  for (const [as, bs, ta, tb] of cases) {
    it(`matMul ${JSON.stringify(as)}x${JSON.stringify(bs)} tA=${ta} tB=${tb}`, async () => {
      const f = () => tf.matMul(rand(as, 3), rand(bs, 4), ta, tb);
      const [ref] = await runOn('cpu', f);
      const [got] = await runOn('native', f);
      expect(maxRelDiff(got!, ref!)).toBeLessThan(1e-5);
    });
  }

  it('an empty batch times one matrix is an empty product', async () => {
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => tf.matMul(tf.zeros([0, 5, 7]), tf.ones([7, 4])));
    expect(y.shape).toEqual([0, 5, 4]);
    expect(y.dataSync().length).toBe(0);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('one matrix b for all batch entries of a runs as one product of B·M rows (not B products of M)', async () => {
    const addon = loadAddon()!;
    const gemm = addon.gemm;
    const calls: Array<{ batch: number; m: number }> = [];
    addon.gemm = (...args: Parameters<typeof gemm>) => {
      calls.push({ batch: args[4], m: args[5] });
      gemm(...args);
    };
    try {
      await runOn('native', () => [
        tf.matMul(rand([3, 5, 7], 1), rand([7, 4], 2)),
        tf.matMul(rand([3, 5, 7], 1), rand([3, 7, 4], 2)),
      ]);
    } finally {
      addon.gemm = gemm;
    }
    // Shared b: folded; a batch of b matrices: one product per entry.
    expect(calls).toEqual([
      { batch: 1, m: 15 },
      { batch: 3, m: 5 },
    ]);
  });

  const acts = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const;
  for (const activation of acts) {
    it(`fused matMul with bias and ${activation}`, async () => {
      const f = () => {
        const a = tf.mul(rand([2, 6, 8], 5), 4);
        const b = rand([8, 5], 6);
        const bias = rand([5], 7);
        const preluActivationWeights = activation === 'prelu' ? rand([5], 8) : undefined;
        return tf.fused.matMul({ a, b, bias, activation, preluActivationWeights, leakyreluAlpha: 0.1 });
      };
      const [ref] = await runOn('cpu', f);
      const [got] = await runOn('native', f);
      expect(maxRelDiff(got!, ref!)).toBeLessThan(1e-5);
    });
  }

  it('fused matMul with a full-matrix bias, scalar bias and transposes', async () => {
    const f = () => [
      tf.fused.matMul({
        a: rand([4, 6], 1),
        b: rand([5, 6], 2),
        transposeB: true,
        bias: rand([4, 1], 3),
        activation: 'relu',
      }),
      tf.fused.matMul({ a: rand([6, 4], 4), b: rand([6, 5], 5), transposeA: true, bias: tf.scalar(0.5) }),
    ];
    const ref = await runOn('cpu', f);
    const got = await runOn('native', f);
    for (let i = 0; i < ref.length; i++) expect(maxRelDiff(got[i]!, ref[i]!)).toBeLessThan(1e-5);
  });

  it('matMul gradients match', async () => {
    const f = () => {
      const a = rand([3, 4, 6], 9);
      const b = rand([3, 6, 5], 10);
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y))));
      return g([a, b]);
    };
    const ref = await runOn('cpu', f);
    const got = await runOn('native', f);
    for (let i = 0; i < ref.length; i++) expect(maxRelDiff(got[i]!, ref[i]!)).toBeLessThan(1e-5);
  });
});
