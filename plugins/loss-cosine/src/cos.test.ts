import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { checkGradient, GRADIENT_TOLERANCE } from '@distillery/core';
import pkg, { cosineLoss } from './index.js';

let S: tf.Tensor, T: tf.Tensor;
beforeAll(async () => {
  await tf.setBackend('cpu');
  S = tf.tensor3d([
    [
      [1, 0],
      [1, 1],
    ],
    [
      [1, 0],
      [3, 4],
    ],
  ]);
  T = tf.tensor3d([
    [
      [0, 1],
      [2, 2],
    ],
    [
      [-1, 0],
      [4, 3],
    ],
  ]);
});

// position vectors: (1,0)·(0,1) → cos 0; (1,1)·(2,2) → 1; (1,0)·(-1,0) → -1; (3,4)·(4,3) → 24/25

describe('cos', () => {
  it('hand-computed: no mask and masked', () => {
    expect(cosineLoss({ stateS: S, stateT: T }).arraySync()).toBeCloseTo((1 + 0 + 2 + 1 / 25) / 4, 6);
    const m = tf.tensor2d(
      [
        [1, 0],
        [1, 1],
      ],
      undefined,
      'int32',
    );
    expect(cosineLoss({ stateS: S, stateT: T, maskS: m }).arraySync()).toBeCloseTo((1 + 2 + 1 / 25) / 3, 6);
  });
  it('empty mask gives 0; zero vectors give loss 1, not NaN', () => {
    expect(cosineLoss({ stateS: S, stateT: T, maskS: tf.zeros([2, 2]) }).arraySync()).toBe(0);
    expect(cosineLoss({ stateS: tf.zeros([1, 1, 3]), stateT: tf.ones([1, 1, 3]) }).arraySync()).toBeCloseTo(1, 6);
  });
  it('gradient matches a float64 reference (relative 1e-4)', () => {
    // Float64 formula: mean over (real) positions of 1 − s·t / sqrt((|s|² + ε)(|t|² + ε)), positions of D = 2.
    const Tv = [0, 1, 2, 2, -1, 0, 4, 3];
    const ref = (m?: number[]) => (x: ArrayLike<number>) => {
      let num = 0,
        n = 0;
      for (let p = 0; p < 4; p++) {
        const w = m ? m[p]! : 1;
        const [s0, s1, t0, t1] = [x[2 * p]!, x[2 * p + 1]!, Tv[2 * p]!, Tv[2 * p + 1]!];
        num += w * (1 - (s0 * t0 + s1 * t1) / Math.sqrt((s0 * s0 + s1 * s1 + 1e-12) * (t0 * t0 + t1 * t1 + 1e-12)));
        n += w;
      }
      return num / n;
    };
    const m = tf.tensor2d([
      [1, 0],
      [1, 1],
    ]);
    for (const [mask, mv] of [
      [m, [1, 0, 1, 1]],
      [undefined, undefined],
    ] as const) {
      const r = checkGradient(
        (x) => cosineLoss({ stateS: x, stateT: T, maskS: mask }),
        S,
        ref(mv ? [...mv] : undefined),
      );
      expect(r.valueError).toBeLessThan(GRADIENT_TOLERANCE);
      expect(r.maxError).toBeLessThan(GRADIENT_TOLERANCE);
    }
  });
  it('errors and leaks', () => {
    expect(() => cosineLoss({ stateS: S, stateT: tf.zeros([2, 2, 3]), where: 'm[4]' })).toThrow(
      /m\[4\]: cos: stateS has shape \(2, 2, 2\) but stateT has shape \(2, 2, 3\)/,
    );
    expect(() => cosineLoss({ stateS: S, stateT: tf.zeros([2, 2, 2], 'int32') })).toThrow(/stateT must be float32/);
    const m = tf.ones([2, 2]);
    const before = tf.memory().numTensors;
    cosineLoss({ stateS: S, stateT: T, maskS: m }).dispose();
    cosineLoss({ stateS: S, stateT: T }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(pkg.plugins()[0]!.meta.name).toBe('cos');
  });
});
