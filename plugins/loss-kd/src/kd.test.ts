import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { checkGradient, GRADIENT_TOLERANCE, type DistilleryError } from '@distillery/core';
import pkg, { kdCe, kdMse, kdKl, kdBce, ceLoss } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Plain-JS float64 references of the documented formulas, row by row.
const softmax = (r: number[]) => {
  const m = Math.max(...r);
  const e = r.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const rowsOf = (a: number[], C: number) => Array.from({ length: a.length / C }, (_, i) => a.slice(i * C, (i + 1) * C));
const refCe = (S: number[], T: number[], C: number, t: number[]) => {
  const rs = rowsOf(S, C),
    rt = rowsOf(T, C);
  let tot = 0;
  rs.forEach((r, i) => {
    const p = softmax(rt[i]!.map((v) => v / t[i]!));
    const q = softmax(r.map((v) => v / t[i]!));
    tot += -p.reduce((a, pc, c) => a + pc * Math.log(q[c]!), 0);
  });
  return tot / rs.length;
};
const refKl = (S: number[], T: number[], C: number, t: number[]) => {
  const rs = rowsOf(S, C),
    rt = rowsOf(T, C);
  let tot = 0;
  rs.forEach((r, i) => {
    const p = softmax(rt[i]!.map((v) => v / t[i]!));
    const q = softmax(r.map((v) => v / t[i]!));
    tot += t[i]! ** 2 * p.reduce((a, pc, c) => a + pc * Math.log(pc / q[c]!), 0);
  });
  return tot / rs.length;
};
const sig = (x: number) => 1 / (1 + Math.exp(-x));

const S = [0.5, -1, 2, 0.1, 0.3, -0.7, 1.5, 0.2, -0.4, 0.9, 0.0, -2.0];
const T = [1.0, 0.2, -0.5, 0.7, -1.2, 0.4, 0.3, 1.1, 0.0, -0.3, 2.2, 0.6];

describe('kd losses', () => {
  it('ce: hand case and per-row temperatures, 2-D and 3-D', () => {
    const z = tf.zeros([1, 2]);
    expect(kdCe({ logitsS: z, logitsT: z, temperature: 1 }).arraySync()).toBeCloseTo(Math.LN2, 6);
    const s2 = tf.tensor2d(S, [4, 3]),
      t2 = tf.tensor2d(T, [4, 3]);
    expect(kdCe({ logitsS: s2, logitsT: t2, temperature: 4 }).arraySync()).toBeCloseTo(refCe(S, T, 3, [4, 4, 4, 4]), 5);
    const temps = [1, 2, 3, 4];
    const tt = tf.tensor2d(temps, [2, 2]);
    const s3 = tf.tensor3d(S, [2, 2, 3]),
      t3 = tf.tensor3d(T, [2, 2, 3]);
    expect(kdCe({ logitsS: s3, logitsT: t3, temperature: tt }).arraySync()).toBeCloseTo(refCe(S, T, 3, temps), 5);
  });
  it('mse, kl (T²) and bce match their formulas', () => {
    const s2 = tf.tensor2d(S, [4, 3]),
      t2 = tf.tensor2d(T, [4, 3]);
    const mse = S.reduce((a, v, i) => a + (v / 2 - T[i]! / 2) ** 2, 0) / S.length;
    expect(kdMse({ logitsS: s2, logitsT: t2, temperature: 2 }).arraySync()).toBeCloseTo(mse, 6);
    expect(kdKl({ logitsS: s2, logitsT: t2, temperature: 2 }).arraySync()).toBeCloseTo(refKl(S, T, 3, [2, 2, 2, 2]), 5);
    const temps = tf.tensor1d([1, 2, 3, 4]);
    expect(kdKl({ logitsS: s2, logitsT: t2, temperature: temps }).arraySync()).toBeCloseTo(
      refKl(S, T, 3, [1, 2, 3, 4]),
      5,
    );
    const bce =
      S.reduce((a, v, i) => {
        const x = v / 2,
          t = sig(T[i]! / 2);
        return a - (t * Math.log(sig(x)) + (1 - t) * Math.log(1 - sig(x)));
      }, 0) / S.length;
    expect(kdBce({ logitsS: s2, logitsT: t2, temperature: 2 }).arraySync()).toBeCloseTo(bce, 5);
    // KL is zero for identical inputs; equals CE − H(p) (scaled by T²)
    expect(kdKl({ logitsS: t2, logitsT: t2, temperature: 3 }).arraySync()).toBeCloseTo(0, 6);
  });
  it('gradients match float64 references of the formulas (relative 1e-4)', () => {
    const t2 = tf.tensor2d(T, [4, 3]);
    const x = tf.tensor2d(S, [4, 3]);
    const temps = [2, 2, 2, 2];
    const refMse = (s: ArrayLike<number>) =>
      Array.from(s).reduce((a, v, i) => a + (v / 2 - T[i]! / 2) ** 2, 0) / S.length;
    const refBce = (s: ArrayLike<number>) =>
      Array.from(s).reduce((a, v, i) => {
        const t = sig(T[i]! / 2);
        return a - (t * Math.log(sig(v / 2)) + (1 - t) * Math.log(1 - sig(v / 2)));
      }, 0) / S.length;
    const cases: [typeof kdCe, (s: Float64Array) => number][] = [
      [kdCe, (s) => refCe(Array.from(s), T, 3, temps)],
      [kdMse, refMse],
      [kdKl, (s) => refKl(Array.from(s), T, 3, temps)],
      [kdBce, refBce],
    ];
    for (const [f, ref] of cases) {
      const r = checkGradient((s) => f({ logitsS: s, logitsT: t2, temperature: 2 }), x, ref);
      expect(r.valueError, f.name).toBeLessThan(GRADIENT_TOLERANCE);
      expect(r.maxError, f.name).toBeLessThan(GRADIENT_TOLERANCE);
    }
    // per-row temperatures (a tensor) take the same path through the gradient
    const tt = tf.tensor1d([1, 2, 3, 4]);
    const r = checkGradient(
      (s) => kdKl({ logitsS: s, logitsT: t2, temperature: tt }),
      x,
      (s) => refKl(Array.from(s), T, 3, [1, 2, 3, 4]),
    );
    expect(r.maxError).toBeLessThan(GRADIENT_TOLERANCE);
  });
  it('zero rows give 0; no tensors leak; inputs are kept', () => {
    const e = tf.zeros([0, 5]);
    for (const f of [kdCe, kdMse, kdKl, kdBce])
      expect(f({ logitsS: e, logitsT: e, temperature: 2 }).arraySync()).toBe(0);
    const s2 = tf.tensor2d(S, [4, 3]),
      t2 = tf.tensor2d(T, [4, 3]),
      tt = tf.tensor1d([1, 2, 3, 4]);
    const before = tf.memory().numTensors;
    for (const f of [kdCe, kdMse, kdKl, kdBce]) f({ logitsS: s2, logitsT: t2, temperature: tt }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(s2.isDisposed || t2.isDisposed || tt.isDisposed).toBe(false);
  });
  it('clear errors for shapes, dtypes and temperatures', () => {
    const a = tf.zeros([2, 3]),
      b = tf.zeros([2, 4]);
    expect(() => kdCe({ logitsS: a, logitsT: b, temperature: 1 })).toThrow(
      /logitsS has shape \(2, 3\) but logitsT has shape \(2, 4\)/,
    );
    expect(() => kdCe({ logitsS: tf.zeros([2, 3], 'int32'), logitsT: a, temperature: 1 })).toThrow(
      /logitsS must be float32, got int32/,
    );
    expect(() => kdMse({ logitsS: a, logitsT: a, temperature: tf.ones([3]) })).toThrow(/temperature has shape \(3\)/);
    expect(() => kdMse({ logitsS: a, logitsT: a, temperature: 0 })).toThrow(/positive finite/);
    let thrown: unknown;
    try {
      kdKl({ logitsS: a, logitsT: b, temperature: 1 });
    } catch (e) {
      thrown = e;
    }
    // asserted outside the catch: a call that does not throw fails here
    expect(thrown).toBeDefined();
    expect((thrown as DistilleryError).code).toBe('SHAPE_MISMATCH');
  });
  it('package entry point lists the four plugins', () => {
    expect(pkg.plugins().map((p) => p.meta.name)).toEqual(['ce', 'mse', 'kl', 'bce']);
    expect(ceLoss().meta.kind).toBe('kd-loss');
  });
});
