import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { checkGradient, GRADIENT_TOLERANCE, type GradientCheck } from '@distillery/core';
import pkg, { attentionMse, attentionMseSum, attentionCe, attentionCeMean } from './index.js';

let S: tf.Tensor, T: tf.Tensor;
beforeAll(async () => {
  await tf.setBackend('cpu');
  S = tf.tensor4d([
    [
      [
        [0.5, -0.5],
        [1, 2],
      ],
      [
        [0, 0],
        [-2, 1],
      ],
    ],
  ]);
  T = tf.tensor4d([
    [
      [
        [1, 0],
        [1, -1],
      ],
      [
        [0.5, 0.5],
        [3, 0],
      ],
    ],
  ]);
});

// (B=1, H=2, L=2, L=2)
const lsm = (r: number[]) => {
  const m = Math.max(...r);
  const z = Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0)) + m;
  return r.map((v) => v - z);
};
const sm = (r: number[]) => lsm(r).map(Math.exp);

// Float64 references of the documented formulas on flattened (B, H, L, L) maps, for the gradient checks.
const B = 1,
  H = 2,
  L = 2;
const Tv = [1, 0, 1, -1, 0.5, 0.5, 3, 0];
const at = (x: ArrayLike<number>, b: number, h: number, i: number, j: number, nh = H) =>
  x[((b * nh + h) * L + i) * L + j]!;
/** Σ over heads → one (B, 1, L, L) map. */
const headSum = (x: ArrayLike<number>, scale = 1) =>
  Array.from({ length: B * L * L }, (_, k) => {
    const [b, i, j] = [Math.floor(k / (L * L)), Math.floor(k / L) % L, k % L];
    let v = 0;
    for (let h = 0; h < H; h++) v += at(x, b, h, i, j);
    return v * scale;
  });
/** Masked MSE: Σ m_i m_j (S − T)² / (nh · Σ n²); no mask: mean of (thr(S) − thr(T))², thr zeroing ≤ −1e-3 unless exact. */
const refMse = (s: ArrayLike<number>, t: ArrayLike<number>, nh: number, m?: number[], exact = false) => {
  let num = 0;
  const thr = (v: number) => (exact || v > -1e-3 ? v : 0);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < nh; h++)
      for (let i = 0; i < L; i++)
        for (let j = 0; j < L; j++) {
          const w = m ? m[i]! * m[j]! : 1;
          const d = m
            ? at(s, b, h, i, j, nh) - at(t, b, h, i, j, nh)
            : thr(at(s, b, h, i, j, nh)) - thr(at(t, b, h, i, j, nh));
          num += w * d * d;
        }
  const n = m ? m.reduce((a, v) => a + v, 0) : 0;
  return m ? num / (nh * n * n) : num / (B * nh * L * L);
};
/** CE: −Σ P·log Q; masked: Σ m_i m_j … / (nh · Σ n) (exact: softmaxes over real keys); no mask: mean over rows, P zeroed at T ≤ −1e-3. */
const refCe = (s: ArrayLike<number>, t: ArrayLike<number>, nh: number, m?: number[], exact = false) => {
  let num = 0;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < nh; h++)
      for (let i = 0; i < L; i++) {
        const keys = Array.from({ length: L }, (_, j) => j).filter((j) => !(m && exact) || m[j] === 1);
        const p = sm(keys.map((j) => at(t, b, h, i, j, nh)));
        const q = lsm(keys.map((j) => at(s, b, h, i, j, nh)));
        keys.forEach((j, k) => {
          const w = m ? m[i]! * m[j]! : exact || at(t, b, h, i, j, nh) > -1e-3 ? 1 : 0;
          num -= w * p[k]! * q[k]!;
        });
      }
  const n = m ? m.reduce((a, v) => a + v, 0) : 0;
  return m ? num / (nh * n) : num / (B * nh * L);
};
const expectGrad = (r: GradientCheck) => {
  expect(r.valueError).toBeLessThan(GRADIENT_TOLERANCE);
  expect(r.maxError).toBeLessThan(GRADIENT_TOLERANCE);
};

describe('attention_mse / attention_mse_sum', () => {
  it('no mask: TextBrewer thresholding vs exact', () => {
    // thresholded S: [[.5,0],[1,2]],[[0,0],[0,1]]  T: [[1,0],[1,0]],[[.5,.5],[3,0]]
    const tb = (0.25 + 0 + 0 + 4 + 0.25 + 0.25 + 9 + 1) / 8;
    expect(attentionMse({ stateS: S, stateT: T }).arraySync()).toBeCloseTo(tb, 6);
    const ex = (0.25 + 0.25 + 0 + 9 + 0.25 + 0.25 + 25 + 1) / 8;
    expect(attentionMse({ stateS: S, stateT: T, options: { exact: true } }).arraySync()).toBeCloseTo(ex, 6);
  });
  it('mask: only real query rows and key columns; divisor H·Σn²', () => {
    const m = tf.tensor2d([[1, 0]], undefined, 'int32');
    // only (i=0, j=0) per head: (0.5−1)² + (0−0.5)² over 2·1
    expect(attentionMse({ stateS: S, stateT: T, maskS: m }).arraySync()).toBeCloseTo(0.25, 6);
    // sum over heads first: S(0,0)=0.5, T(0,0)=1.5 → 1 over 1
    expect(attentionMseSum({ stateS: S, stateT: T, maskS: m }).arraySync()).toBeCloseTo(1, 6);
    // 3-D input is used as is by the sum variant
    const s3 = tf.tensor3d([
        [
          [1, 2],
          [3, 4],
        ],
      ]),
      t3 = tf.tensor3d([
        [
          [0, 2],
          [3, 0],
        ],
      ]);
    expect(attentionMseSum({ stateS: s3, stateT: t3 }).arraySync()).toBeCloseTo(17 / 4, 6);
  });
  it('empty mask gives 0; gradients; no leaks', () => {
    expect(attentionMse({ stateS: S, stateT: T, maskS: tf.zeros([1, 2]) }).arraySync()).toBe(0);
    const m = tf.tensor2d([[1, 1]]);
    expectGrad(
      checkGradient(
        (x) => attentionMse({ stateS: x, stateT: T, maskS: m }),
        S,
        (x) => refMse(x, Tv, H, [1, 1]),
      ),
    );
    const before = tf.memory().numTensors;
    attentionMse({ stateS: S, stateT: T, maskS: m }).dispose();
    attentionMseSum({ stateS: S, stateT: T }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('attention_ce / attention_ce_mean', () => {
  const rowsS = [
    [0.5, -0.5],
    [1, 2],
    [0, 0],
    [-2, 1],
  ];
  const rowsT = [
    [1, 0],
    [1, -1],
    [0.5, 0.5],
    [3, 0],
  ];
  it('no mask: teacher probabilities at raw scores ≤ −1e-3 are zeroed', () => {
    let tb = 0,
      ex = 0;
    rowsS.forEach((r, i) => {
      const p = sm(rowsT[i]!),
        q = lsm(r);
      p.forEach((pj, j) => {
        ex -= pj * q[j]!;
        if (rowsT[i]![j]! > -1e-3) tb -= pj * q[j]!;
      });
    });
    expect(attentionCe({ stateS: S, stateT: T }).arraySync()).toBeCloseTo(tb / 4, 5);
    expect(attentionCe({ stateS: S, stateT: T, options: { exact: true } }).arraySync()).toBeCloseTo(ex / 4, 5);
  });
  it('mask: TextBrewer divisor H·Σn, no renormalisation; exact renormalises over real keys', () => {
    const m = tf.tensor2d([[1, 0]]);
    // real query row 0 of each head, key 0 only
    const tb = -(sm(rowsT[0]!)[0]! * lsm(rowsS[0]!)[0]! + sm(rowsT[2]!)[0]! * lsm(rowsS[2]!)[0]!) / 2;
    expect(attentionCe({ stateS: S, stateT: T, maskS: m }).arraySync()).toBeCloseTo(tb, 5);
    // exact: one real key → P = 1, log Q = 0 → loss 0
    expect(attentionCe({ stateS: S, stateT: T, maskS: m, options: { exact: true } }).arraySync()).toBeCloseTo(0, 6);
    // ce_mean averages raw scores over heads first
    const sMean = [0.25, -0.25],
      tMean = [0.75, 0.25];
    expect(attentionCeMean({ stateS: S, stateT: T, maskS: m }).arraySync()).toBeCloseTo(
      -sm(tMean)[0]! * lsm(sMean)[0]!,
      5,
    );
  });
  it('a batch row with no real token is ignored (both modes), never NaN', () => {
    const S2 = tf.concat([S, tf.zerosLike(S)]);
    const T2 = tf.concat([T, tf.fill([1, 2, 2, 2], -10000)]);
    const m1 = tf.tensor2d([[1, 1]]);
    const m2 = tf.tensor2d([
      [1, 1],
      [0, 0],
    ]);
    for (const exact of [false, true]) {
      for (const f of [attentionCe, attentionCeMean, attentionMse, attentionMseSum]) {
        const one = f({ stateS: S, stateT: T, maskS: m1, options: { exact } }).arraySync();
        const two = f({ stateS: S2, stateT: T2, maskS: m2, options: { exact } }).arraySync();
        expect(Number.isFinite(two)).toBe(true);
        expect(two).toBeCloseTo(one, 5);
      }
    }
  });
  it('TextBrewer-mode gradients match float64 references', () => {
    const m = tf.tensor2d([[1, 0]]);
    expectGrad(
      checkGradient(
        (x) => attentionCe({ stateS: x, stateT: T, maskS: m }),
        S,
        (x) => refCe(x, Tv, H, [1, 0]),
      ),
    );
    expectGrad(
      checkGradient(
        (x) => attentionMseSum({ stateS: x, stateT: T, maskS: m }),
        S,
        (x) => refMse(headSum(x), headSum(Tv), 1, [1, 0]),
      ),
    );
    // away from the −1e-3 threshold the thresholded MSE is smooth too (T's negative entry is still zeroed)
    const Sp = tf.add(S, 3);
    expectGrad(
      checkGradient(
        (x) => attentionMse({ stateS: x, stateT: T }),
        Sp,
        (x) => refMse(x, Tv, H),
      ),
    );
    expectGrad(
      checkGradient(
        (x) => attentionCe({ stateS: x, stateT: T }),
        S,
        (x) => refCe(x, Tv, H),
      ),
    );
  });
  it('gradients (exact, masked) and errors', () => {
    const m = tf.tensor2d([[1, 1]]);
    expectGrad(
      checkGradient(
        (x) => attentionCe({ stateS: x, stateT: T, maskS: m, options: { exact: true } }),
        S,
        (x) => refCe(x, Tv, H, [1, 1], true),
      ),
    );
    expectGrad(
      checkGradient(
        (x) => attentionCeMean({ stateS: x, stateT: T }),
        S,
        (x) => refCe(headSum(x, 1 / H), headSum(Tv, 1 / H), 1),
      ),
    );
    const m1 = tf.tensor2d([[1, 0]]);
    expectGrad(
      checkGradient(
        (x) => attentionCe({ stateS: x, stateT: T, maskS: m1, options: { exact: true } }),
        S,
        (x) => refCe(x, Tv, H, [1, 0], true),
      ),
    );
    expectGrad(
      checkGradient(
        (x) => attentionMse({ stateS: x, stateT: T, options: { exact: true } }),
        S,
        (x) => refMse(x, Tv, H, undefined, true),
      ),
    );
    expect(attentionCe({ stateS: S, stateT: T, maskS: tf.zeros([1, 2]), options: { exact: true } }).arraySync()).toBe(
      0,
    );
    expect(() => attentionCe({ stateS: S, stateT: tf.zeros([1, 3, 2, 2]), where: 'intermediateMatches[1]' })).toThrow(
      /intermediateMatches\[1\]: attention_ce: stateS has shape \(1, 2, 2, 2\) but stateT has shape \(1, 3, 2, 2\)/,
    );
    expect(() => attentionCe({ stateS: S, stateT: T, maskS: tf.ones([1, 3]) })).toThrow(/mask has shape \(1, 3\)/);
    expect(() => attentionMse({ stateS: tf.zeros([1, 2, 2, 2], 'int32'), stateT: T })).toThrow(/float32/);
    expect(() => attentionMse({ stateS: S, stateT: T, options: { exact: 'yes' } })).toThrow(/options.exact/);
    expect(pkg.plugins().map((p) => p.meta.name)).toEqual([
      'attention_mse',
      'attention_mse_sum',
      'attention_ce',
      'attention_ce_mean',
    ]);
  });
});

describe('head-reducing losses accept different head counts', () => {
  it('attention_mse_sum / attention_ce_mean compare (B, L, L) maps of a 4-head student and a 6-head teacher', async () => {
    const { attentionMseSum, attentionCeMean } = await import('./index.js');
    tf.tidy(() => {
      const s = tf.softmax(tf.randomNormal([2, 4, 5, 5], 0, 1, 'float32', 1));
      const t = tf.softmax(tf.randomNormal([2, 6, 5, 5], 0, 1, 'float32', 2));
      const got = attentionMseSum({ stateS: s, stateT: t }).dataSync()[0]!;
      const ref = tf.mean(tf.square(tf.sub(tf.sum(s, 1), tf.sum(t, 1)))).dataSync()[0]!;
      expect(got).toBeCloseTo(ref, 6);
      expect(Number.isFinite(attentionCeMean({ stateS: tf.log(s), stateT: tf.log(t) }).dataSync()[0]!)).toBe(true);
      expect(() => attentionMseSum({ stateS: s, stateT: tf.softmax(tf.randomNormal([2, 6, 4, 4])) })).toThrow(
        /SHAPE|shape/,
      );
    });
  });
});
