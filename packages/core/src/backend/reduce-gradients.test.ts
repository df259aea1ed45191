import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import { sumGradConfig as tfjsSumGrad } from '@tensorflow/tfjs-core/dist/gradients/Sum_grad.js';
import { meanGradConfig as tfjsMeanGrad } from '@tensorflow/tfjs-core/dist/gradients/Mean_grad.js';
import { registerAllGradients } from './gradients.js';
import { meanGradConfig, sumGradConfig } from './reduce-gradients.js';

/** x's shape, the reduction's axis attribute and keepDims. */
const CASES: [number[], number | number[] | null, boolean][] = [
  [[5], null, false],
  [[3, 4], 0, false],
  [[3, 4], -1, true],
  [[2, 3, 4], [0, 2], false],
  [[2, 3, 4], null, true],
  [[2, 1, 3, 4], 1, false],
  [[32, 4, 8, 8], 1, false],
];

/** dx of `config` for x and a dy of the reduction's output shape. */
function dx(config: GradConfig, x: tf.Tensor, dy: tf.Tensor, axis: number | number[] | null): Float32Array {
  return tf.tidy(() => {
    const attrs = { axis, keepDims: false } as unknown as NamedAttrMap;
    return config.gradFunc(dy, [x], attrs).x!().dataSync() as Float32Array;
  });
}

describe('Sum and Mean gradients built on the backend', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [ours, theirs, name] of [
    [sumGradConfig, tfjsSumGrad, 'Sum'],
    [meanGradConfig, tfjsMeanGrad, 'Mean'],
  ] as const) {
    it(`${name}: the same numbers as tfjs-core's gradient, for every axis form`, () => {
      const before = tf.memory().numTensors;
      for (const [shape, axis, keepDims] of CASES) {
        const x = tf.randomNormal(shape, 0, 1, 'float32', 7);
        const outShape = tf.tidy(() => tf.sum(x, axis ?? undefined, keepDims).shape);
        const dy = tf.randomNormal(outShape, 0, 1, 'float32', 11);
        expect(Array.from(dx(ours, x, dy, axis)), `${name} ${JSON.stringify([shape, axis, keepDims])}`).toEqual(
          Array.from(dx(theirs, x, dy, axis)),
        );
        tf.dispose([x, dy]);
      }
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`${name}: builds no JavaScript array of x's size (tfjs-core's does)`, () => {
      const x = tf.ones([8, 16, 32]);
      const dy = tf.scalar(0.5);
      const makeTensor = vi.spyOn(tf.engine(), 'makeTensor');
      const xSized = () => makeTensor.mock.calls.filter(([values]) => (values as ArrayLike<number>).length === x.size);
      try {
        dx(ours, x, dy, null);
        expect(xSized()).toHaveLength(0);
        dx(theirs, x, dy, null);
        expect(xSized()).toHaveLength(1);
      } finally {
        makeTensor.mockRestore();
        tf.dispose([x, dy]);
      }
    });
  }

  it('registerAllGradients puts them in place of tfjs-core', async () => {
    await registerAllGradients();
    expect(tf.getGradient('Sum')).toBe(sumGradConfig);
    expect(tf.getGradient('Mean')).toBe(meanGradConfig);
    const x = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const g = tf.grad((v: tf.Tensor) => tf.add(tf.sum(tf.square(v)), tf.sum(tf.mean(v, 1))))(x);
    // d/dx Σx² = 2x; d/dx Σ_rows mean(row) = 1/3 everywhere.
    expect(Array.from(g.dataSync())).toEqual([1, 2, 3, 4, 5, 6].map((v) => Math.fround(2 * v + Math.fround(1 / 3))));
    tf.dispose([x, g]);
  });
});
