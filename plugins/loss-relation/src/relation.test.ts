import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { checkGradient, GRADIENT_TOLERANCE, type GradientCheck } from '@distillery/core';
import pkg, { pkd, fsp, nst, miniLm } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const expectGrad = (r: GradientCheck) => {
  expect(r.valueError).toBeLessThan(GRADIENT_TOLERANCE);
  expect(r.maxError).toBeLessThan(GRADIENT_TOLERANCE);
};
/** Row-major (B, L, D) view of flat values. */
const view3 = (x: ArrayLike<number>, L: number, D: number) => (b: number, i: number, d: number) =>
  x[(b * L + i) * D + d]!;

describe('pkd', () => {
  it('hand case: position 0, unit-normalised, mean over batch; mask ignored; zero vector no NaN', () => {
    const s = tf.tensor3d([
      [
        [3, 4],
        [9, 9],
      ],
      [
        [1, 0],
        [5, 5],
      ],
    ]);
    const t = tf.tensor3d([
      [
        [4, 3],
        [0, 0],
      ],
      [
        [0, 2],
        [1, 1],
      ],
    ]);
    // row0: (.6,.8) vs (.8,.6) → .04+.04 = .08; row1: (1,0) vs (0,1) → 2
    expect(pkd({ stateS: s, stateT: t }).arraySync()).toBeCloseTo(1.04, 6);
    expect(
      pkd({
        stateS: s,
        stateT: t,
        maskS: tf.tensor2d([
          [1, 0],
          [0, 0],
        ]),
      }).arraySync(),
    ).toBeCloseTo(1.04, 6);
    expect(pkd({ stateS: tf.tensor2d([[3, 4]]), stateT: tf.tensor2d([[4, 3]]) }).arraySync()).toBeCloseTo(0.08, 6);
    expect(pkd({ stateS: tf.zeros([1, 2]), stateT: tf.tensor2d([[0, 1]]) }).arraySync()).toBeCloseTo(1, 6);
    // float64: mean over b of Σ_d (s_b0/|s_b0| − t_b0/|t_b0|)²
    const tv = [4, 3, 0, 0, 0, 2, 1, 1];
    const ref = (x: ArrayLike<number>) => {
      const [S3, T3] = [view3(x, 2, 2), view3(tv, 2, 2)];
      let tot = 0;
      for (let b = 0; b < 2; b++) {
        const ns = Math.hypot(S3(b, 0, 0), S3(b, 0, 1)),
          nt = Math.hypot(T3(b, 0, 0), T3(b, 0, 1));
        for (let d = 0; d < 2; d++) tot += (S3(b, 0, d) / ns - T3(b, 0, d) / nt) ** 2;
      }
      return tot / 2;
    };
    expectGrad(checkGradient((x) => pkd({ stateS: x, stateT: t }), s, ref));
  });
});

describe('fsp / nst', () => {
  // B=1, L=2, D=2
  let x0: tf.Tensor, x1: tf.Tensor, y: tf.Tensor;
  beforeAll(() => {
    x0 = tf.tensor3d([
      [
        [1, 2],
        [3, 4],
      ],
    ]);
    x1 = tf.tensor3d([
      [
        [0, 1],
        [1, 0],
      ],
    ]);
    y = tf.tensor3d([
      [
        [1, 0],
        [0, 1],
      ],
    ]);
  });
  it('fsp: G = X0ᵀX1 / L; masked uses n_b', () => {
    // G_S = [[3,1],[4,2]]/2, G_T = I/2 → diff/2: [[2,1],[4,1]]/2 → squares 1, .25, 4, .25 → mean 5.5/4
    expect(fsp({ stateS: [x0, x1], stateT: [y, y] }).arraySync()).toBeCloseTo(5.5 / 4, 6);
    const m = tf.tensor2d([[1, 0]], undefined, 'int32');
    // only position 0: G_S = [[0,1],[0,2]], G_T = [[1,0],[0,0]] → 1+1+0+4 = 6 over 4
    expect(fsp({ stateS: [x0, x1], stateT: [y, y], maskS: m }).arraySync()).toBeCloseTo(1.5, 6);
    expect(fsp({ stateS: [x0, x1], stateT: [y, y], maskS: tf.zeros([1, 2]) }).arraySync()).toBe(0);
    // float64: G = Σ_{real i} X0_i ⊗ X1_i / n, loss = mean (G_S − G_T)²
    const gram = (a: ArrayLike<number>, b: ArrayLike<number>, mk: number[]) => {
      const [A, Bv] = [view3(a, 2, 2), view3(b, 2, 2)];
      const n = mk.reduce((u, v) => u + v, 0);
      return [0, 1].flatMap((p) => [0, 1].map((q) => mk.reduce((u, w, i) => u + w * A(0, i, p) * Bv(0, i, q), 0) / n));
    };
    const fspRef = (mk: number[]) => (a: ArrayLike<number>) => {
      const gS = gram(a, [0, 1, 1, 0], mk),
        gT = gram([1, 0, 0, 1], [1, 0, 0, 1], mk);
      return gS.reduce((u, v, k) => u + (v - gT[k]!) ** 2, 0) / 4;
    };
    expectGrad(checkGradient((a) => fsp({ stateS: [a, x1], stateT: [y, y], maskS: m }), x0, fspRef([1, 0])));
    expectGrad(checkGradient((a) => fsp({ stateS: [a, x1], stateT: [y, y] }), x0, fspRef([1, 1])));
  });
  it('nst: G = X0X1ᵀ / D, D may differ; masked Σ m_i m_j / Σ n²', () => {
    const t3 = tf.tensor3d([
      [
        [1, 1, 1],
        [0, 0, 3],
      ],
    ]);
    // G_S = [[2,1],[4,3]]/2 ; G_T = [[3,3],[3,9]]/3 = [[1,1],[1,3]] → diffs [0,-.5],[1,-1.5]
    expect(nst({ stateS: [x0, x1], stateT: [t3, t3] }).arraySync()).toBeCloseTo((0 + 0.25 + 1 + 2.25) / 4, 6);
    const m = tf.tensor2d([[0, 1]]);
    expect(nst({ stateS: [x0, x1], stateT: [t3, t3], maskT: m }).arraySync()).toBeCloseTo(2.25, 6);
    expect(nst({ stateS: [x0, x1], stateT: [t3, t3], maskS: tf.zeros([1, 2]) }).arraySync()).toBe(0);
    // float64: G_ij = X0_i · X1_j / D; masked Σ m_i m_j (G_S − G_T)² / (Σ m)²
    const tv = [1, 1, 1, 0, 0, 3];
    const sim = (a: ArrayLike<number>, D: number) => {
      const A = view3(a, 2, D);
      return [0, 1].flatMap((i) =>
        [0, 1].map((j) => Array.from({ length: D }, (_, d) => A(0, i, d) * A(0, j, d)).reduce((u, v) => u + v, 0) / D),
      );
    };
    const nstRef = (mk: number[]) => (a: ArrayLike<number>) => {
      const gS = sim(a, 2),
        gT = sim(tv, 3);
      const n = mk.reduce((u, v) => u + v, 0);
      return gS.reduce((u, v, k) => u + mk[Math.floor(k / 2)]! * mk[k % 2]! * (v - gT[k]!) ** 2, 0) / (n * n);
    };
    expectGrad(checkGradient((a) => nst({ stateS: [a, a], stateT: [t3, t3] }), x0, nstRef([1, 1])));
    expectGrad(checkGradient((a) => nst({ stateS: [a, a], stateT: [t3, t3], maskS: m }), x0, nstRef([0, 1])));
  });
  it('no tensors leak from successful calls', () => {
    const m = tf.tensor2d([[1, 0]]);
    const before = tf.memory().numTensors;
    fsp({ stateS: [x0, x1], stateT: [y, y], maskS: m }).dispose();
    nst({ stateS: [x0, x1], stateT: [y, y], maskS: m }).dispose();
    pkd({ stateS: x0, stateT: y }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
  it('pair/shape errors name both shapes and where', () => {
    expect(() => fsp({ stateS: x0, stateT: [y, y], where: 'intermediateMatches[3]' })).toThrow(
      /intermediateMatches\[3\]: fsp: stateS must be a pair/,
    );
    expect(() => fsp({ stateS: [x0, x1], stateT: [tf.zeros([1, 2, 3]), tf.zeros([1, 2, 3])] })).toThrow(
      /student Gram \(1, 2, 2\).*teacher Gram \(1, 3, 3\)/,
    );
    expect(() => nst({ stateS: [x0, x1], stateT: [tf.zeros([1, 3, 3]), tf.zeros([1, 3, 3])] })).toThrow(
      /SHAPE_MISMATCH|similarity matrices \(1, 2, 2\) vs \(1, 3, 3\)/,
    );
    expect(() => nst({ stateS: [x0, tf.zeros([1, 2, 2], 'int32')], stateT: [y, y] })).toThrow(
      /stateS\[1\] must be float32/,
    );
    const before = tf.memory().numTensors;
    expect(() => fsp({ stateS: [x0, x1], stateT: [tf.zeros([1, 2, 3]), tf.zeros([1, 2, 3])] })).toThrow();
    expect(tf.memory().numTensors).toBe(before + 2); // only the two zeros() made by the test
  });
});

describe('minilm', () => {
  const B = 1,
    H = 2,
    L = 3;
  const rnd = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);
  let aS: tf.Tensor, aT: tf.Tensor, vS: tf.Tensor, vT: tf.Tensor;
  beforeAll(() => {
    aS = tf.softmax(rnd([B, H, L, L], 1), -1);
    aT = tf.softmax(rnd([B, H, L, L], 2), -1);
    vS = rnd([B, L, 4], 3);
    vT = rnd([B, L, 6], 4);
  });
  /**
   * Float64 MiniLM (B = 1, 2 relation heads): KL(A_T ‖ A_S) over heads × real queries, plus the KL of
   * softmax(V_h V_hᵀ/√d_h) relations over real keys, averaged over heads × real queries. `vs` is the
   * student's flattened values (the variable of the gradient check), `mk` the mask.
   */
  const miniLmRef = (vs: ArrayLike<number>, mk: number[]) => {
    const A = (a: tf.Tensor) => (a.arraySync() as number[][][][])[0]!;
    const real = [0, 1, 2].filter((i) => mk[i] === 1);
    const kl = (p: number[], q: number[]) => p.reduce((s, pj, j) => s + pj * Math.log(pj / q[j]!), 0);
    let at = 0;
    for (let h = 0; h < H; h++) for (const i of real) at += kl(A(aT)[h]![i]!, A(aS)[h]![i]!);
    const rel = (x: ArrayLike<number>, D: number) => {
      const dh = D / 2;
      const V = view3(x, L, D);
      return [0, 1].map((h) =>
        [0, 1, 2].map((i) => {
          const sc = real.map(
            (j) =>
              Array.from({ length: dh }, (_, d) => V(0, i, h * dh + d) * V(0, j, h * dh + d)).reduce(
                (a, b) => a + b,
                0,
              ) / Math.sqrt(dh),
          );
          const mx = Math.max(...sc);
          const e = sc.map((z) => Math.exp(z - mx));
          const tot = e.reduce((a, b) => a + b, 0);
          return e.map((z) => z / tot);
        }),
      );
    };
    const rS = rel(vs, 4),
      rT = rel(vT.dataSync(), 6);
    let vr = 0;
    for (let h = 0; h < 2; h++) for (const i of real) vr += kl(rT[h]![i]!, rS[h]![i]!);
    return at / (H * real.length) + vr / (2 * real.length);
  };
  it('is 0 for identical inputs, positive otherwise; matches a plain-JS reference', () => {
    expect(miniLm({ stateS: [aT, vT], stateT: [aT, vT] }).arraySync()).toBeCloseTo(0, 6);
    const got = miniLm({ stateS: [aS, vS], stateT: [aT, vT], options: { heads: 2 } }).arraySync();
    expect(got).toBeCloseTo(miniLmRef(Array.from(vS.dataSync()), [1, 1, 1]), 5);
  });
  it('mask, gradient, errors', () => {
    const m = tf.tensor2d([[1, 1, 0]]);
    const v = miniLm({ stateS: [aS, vS], stateT: [aT, vT], maskS: m }).arraySync();
    expect(Number.isFinite(v) && v > 0).toBe(true);
    expect(miniLm({ stateS: [aS, vS], stateT: [aT, vT], maskS: tf.zeros([1, 3]) }).arraySync()).toBe(0);
    const before = tf.memory().numTensors;
    miniLm({ stateS: [aS, vS], stateT: [aT, vT], maskS: m, options: { attention: 'scores' } }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(v).toBeCloseTo(miniLmRef(Array.from(vS.dataSync()), [1, 1, 0]), 5);
    expectGrad(
      checkGradient(
        (x) => miniLm({ stateS: [aS, x], stateT: [aT, vT], maskS: m }),
        vS,
        (x) => miniLmRef(x, [1, 1, 0]),
      ),
    );
    expectGrad(
      checkGradient(
        (x) => miniLm({ stateS: [aS, x], stateT: [aT, vT] }),
        vS,
        (x) => miniLmRef(x, [1, 1, 1]),
      ),
    );
    expect(() => miniLm({ stateS: [aS, vS], stateT: [aT, vT], options: { heads: 3 } })).toThrow(/options.heads = 3/);
    expect(() => miniLm({ stateS: [aS, vS], stateT: [tf.zeros([1, 1, 3, 3]), vT] })).toThrow(/same shape/);
    expect(pkg.plugins().map((p) => p.meta.name)).toEqual(['pkd', 'fsp', 'nst', 'minilm']);
  });
});
