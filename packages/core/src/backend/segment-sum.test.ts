import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerSegmentSumKernels, segmentSumValues } from './segment-sum.js';
import { configureWasmPaths } from './wasm-paths.js';

/** Naive reference: for each segment, scan all rows (what tfjs-cpu does). */
function naive(x: number[], ids: number[], numSegments: number, inner: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < numSegments; s++) {
    for (let j = 0; j < inner; j++) {
      let acc = 0;
      for (let r = 0; r < ids.length; r++) if (ids[r] === s) acc += x[r * inner + j]!;
      out.push(acc);
    }
  }
  return out;
}

beforeAll(() => {
  configureWasmPaths();
  registerSegmentSumKernels(['cpu', 'wasm']);
});

describe('segmentSumValues', () => {
  it('matches the naive reference, dropping out-of-range ids', () => {
    const ids = [2, 0, 2, 5, -1, 1, 2];
    const x = Array.from({ length: ids.length * 3 }, (_, i) => Math.sin(i));
    const out = new Float32Array(4 * 3);
    segmentSumValues(x, ids, 4, 3, out);
    const ref = naive(x, ids, 4, 3);
    out.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 5));
  });
});

describe.each(['cpu', 'wasm'])('UnsortedSegmentSum on %s', (backend) => {
  it('op result matches the reference (2-D segment ids, int32 too)', async () => {
    await tf.setBackend(backend);
    const x = tf.tensor3d(
      Array.from({ length: 24 }, (_, i) => i),
      [2, 3, 4],
    );
    const ids = tf.tensor2d([0, 2, 2, 1, 0, 2], [2, 3], 'int32');
    const got = await tf.unsortedSegmentSum(x, ids, 3).data();
    expect(Array.from(got)).toEqual(naive(Array.from(x.dataSync()), [0, 2, 2, 1, 0, 2], 3, 4));
    const xi = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    const gi = tf.unsortedSegmentSum(xi, tf.tensor1d([1, 1, 0], 'int32'), 2);
    expect(gi.dtype).toBe('int32');
    expect(Array.from(await gi.data())).toEqual([5, 6, 4, 6]);
  });

  it('tf.grad of tf.gather on an embedding table', async () => {
    await tf.setBackend(backend);
    const table = tf.tensor2d(
      Array.from({ length: 12 }, (_, i) => i),
      [6, 2],
    );
    const ids = tf.tensor1d([1, 3, 3, 5, 1, 1], 'int32');
    const w = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
      [9, 10],
      [11, 12],
    ]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), w)))(table);
    expect(g.shape).toEqual([6, 2]);
    expect(Array.from(await g.data())).toEqual([0, 0, 1 + 9 + 11, 2 + 10 + 12, 0, 0, 3 + 5, 4 + 6, 0, 0, 7, 8]);
  });
});
