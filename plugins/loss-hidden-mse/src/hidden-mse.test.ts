import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { checkGradient, GRADIENT_TOLERANCE } from '@distillery/core';
import pkg, { hiddenMse } from './index.js';

let S: tf.Tensor, T: tf.Tensor, M: tf.Tensor;
beforeAll(async () => {
  await tf.setBackend('cpu');
  S = tf.tensor3d([
    [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
    [
      [0, 1],
      [1, 0],
      [2, 2],
    ],
  ]);
  T = tf.tensor3d([
    [
      [0, 2],
      [3, 3],
      [9, 9],
    ],
    [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
  ]);
  M = tf.tensor2d(
    [
      [1, 1, 0],
      [1, 0, 0],
    ],
    undefined,
    'int32',
  );
});

describe('hidden_mse', () => {
  it('hand-computed: no mask and masked', () => {
    // diffs²: row0 [1,0],[0,1],[16,9]; row1 [0,1],[1,0],[4,4] → total 37 over 12 elements
    expect(hiddenMse({ stateS: S, stateT: T }).arraySync()).toBeCloseTo(37 / 12, 6);
    // real: (0,0),(0,1),(1,0) → 1+0+0+1+0+1 = 3 over 3·2
    expect(hiddenMse({ stateS: S, stateT: T, maskS: M }).arraySync()).toBeCloseTo(3 / 6, 6);
    expect(hiddenMse({ stateS: S, stateT: T, maskT: M }).arraySync()).toBeCloseTo(3 / 6, 6);
  });
  it('all-zero mask gives 0, rows with no tokens are ignored', () => {
    expect(hiddenMse({ stateS: S, stateT: T, maskS: tf.zeros([2, 3]) }).arraySync()).toBe(0);
    const m = tf.tensor2d([
      [1, 1, 0],
      [0, 0, 0],
    ]);
    expect(hiddenMse({ stateS: S, stateT: T, maskS: m }).arraySync()).toBeCloseTo(2 / 4, 6);
  });
  it('gradient matches a float64 reference (relative 1e-4), masked and not', () => {
    // Float64 formula: Σ m_p (s − t)² / (Σ m_p · D) over positions p of D = 2 (no mask: m = 1).
    const Tv = [0, 2, 3, 3, 9, 9, 0, 0, 0, 0, 0, 0];
    const ref = (m: number[]) => (x: ArrayLike<number>) => {
      let num = 0;
      for (let i = 0; i < 12; i++) num += m[Math.floor(i / 2)]! * (x[i]! - Tv[i]!) ** 2;
      return num / (m.reduce((a, v) => a + v, 0) * 2);
    };
    for (const [mask, mv] of [
      [M, [1, 1, 0, 1, 0, 0]],
      [undefined, [1, 1, 1, 1, 1, 1]],
    ] as const) {
      const r = checkGradient((x) => hiddenMse({ stateS: x, stateT: T, maskS: mask }), S, ref([...mv]));
      expect(r.valueError).toBeLessThan(GRADIENT_TOLERANCE);
      expect(r.maxError).toBeLessThan(GRADIENT_TOLERANCE);
    }
  });
  it('errors: shapes (with where), dtypes, mask shape; no leaks', () => {
    expect(() => hiddenMse({ stateS: S, stateT: tf.zeros([2, 3, 4]), where: 'intermediateMatches[0]' })).toThrow(
      /intermediateMatches\[0\]: hidden_mse: stateS has shape \(2, 3, 2\) but stateT has shape \(2, 3, 4\)/,
    );
    expect(() => hiddenMse({ stateS: tf.zeros([2, 3, 2], 'int32'), stateT: T })).toThrow(
      /stateS must be float32, got int32/,
    );
    expect(() => hiddenMse({ stateS: S, stateT: T, maskS: tf.ones([2, 4]) })).toThrow(/mask has shape \(2, 4\)/);
    const before = tf.memory().numTensors;
    hiddenMse({ stateS: S, stateT: T, maskS: M }).dispose();
    hiddenMse({ stateS: S, stateT: T }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(pkg.plugins()[0]!.meta.name).toBe('hidden_mse');
  });
});
