/**
 * The memory-bound kernels split across the pool above 2^17 elements per thread (native/common.h,
 * kMinElementsPerThread). These shapes are large enough to split: the results must match tfjs-cpu and be
 * bit-identical whatever the thread count (each element is computed by the same arithmetic in any split).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { FUSED_KERNEL_NAMES as K, runFusedKernel, type AdamWAttrs } from '@distillery/core/kernels';
import { loadAddon } from '../addon.js';
import { maxRelDiff, nativeReady, rand, runOn } from '../testing/compare.js';

const ready = nativeReady();

/** Values of `f` on native with 1 and with 3 fused threads (3 > cores still splits into 3 chunks). */
async function byThreads(f: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const addon = loadAddon()!;
  const before = addon.getFusedThreads();
  try {
    addon.setFusedThreads(1);
    const one = await runOn('native', f);
    addon.setFusedThreads(3);
    const three = await runOn('native', f);
    return [one, three];
  } finally {
    addon.setFusedThreads(before);
  }
}

async function check(f: () => tf.Tensor | tf.Tensor[], tol = 1e-5): Promise<void> {
  const [one, three] = await byThreads(f);
  const ref = await runOn('cpu', f);
  for (let i = 0; i < ref.length; i++) {
    expect(Array.from(three[i]!)).toEqual(Array.from(one[i]!));
    expect(maxRelDiff(three[i]!, ref[i]!)).toBeLessThan(tol);
  }
}

describe.skipIf(!ready)('memory-bound kernels split across threads', () => {
  it('binary ops, same shape and broadcast rows', async () => {
    await check(() => [
      tf.add(rand([2048, 300], 1), rand([2048, 300], 2)),
      tf.mul(rand([2048, 300], 3), rand([300], 4)),
      tf.sub(rand([64, 1, 4100], 5), rand([1, 3, 4100], 6)),
    ]);
  });

  it('unary ops', async () => {
    await check(() => [tf.exp(rand([700, 1000], 7)), tf.tanh(rand([700, 1000], 8))]);
  });

  it('sums: bias-gradient columns, stacked columns and rows', async () => {
    await check(
      () => [
        tf.sum(rand([2048, 1024], 9), 0),
        tf.sum(rand([2, 1024, 300], 10), 1),
        tf.sum(rand([3000, 200], 11), 1),
        tf.mean(rand([4096, 96], 12), 0),
      ],
      1e-4,
    );
  });

  it('transposes: attention heads and a weight matrix', async () => {
    await check(() => [
      tf.transpose(rand([32, 64, 4, 64], 13), [0, 2, 1, 3]),
      tf.transpose(rand([32, 4, 64, 64], 14), [0, 2, 1, 3]),
      tf.transpose(rand([1000, 700], 15)),
    ]);
  });

  it('AdamW update over 600k parameters', async () => {
    const attrs: AdamWAttrs = {
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      l2: 0,
      decay: 1 - 1e-4 * 0.01,
      stepSize: 1e-4 / (1 - 0.9 ** 3),
      sqrtBc2: Math.sqrt(1 - 0.999 ** 3),
    };
    const [one, three] = await byThreads(() => {
      const n = 600_000;
      const ins = { p: rand([n], 16), g: rand([n], 17), m: rand([n], 18), v: tf.abs(rand([n], 19)) };
      return runFusedKernel(K.adamW, ins, attrs);
    });
    expect(one.length).toBe(3);
    for (let i = 0; i < one.length; i++) expect(Array.from(three[i]!)).toEqual(Array.from(one[i]!));
  });
});
