import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import pkg, {
  constantTemperature,
  flswTemperature,
  cwsmTemperature,
  linearDecayWeight,
  linearGrowthWeight,
} from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
const ctx = undefined as never;

describe('temperature schedulers', () => {
  let zS: tf.Tensor2D, zT: tf.Tensor2D;
  beforeAll(() => {
    zS = tf.tensor2d([
      [1, 0],
      [0, 2],
      [3, 4],
    ]);
    zT = tf.tensor2d([
      [1, 0],
      [2, 0],
      [4, 3],
    ]);
  });
  it('constant returns τ0', () => {
    expect(constantTemperature().create({}, ctx)(zS, zT, 4)).toBe(4);
  });
  it('flsw: hand-computed per-row temperatures (2-D and 3-D shapes)', () => {
    // cos per row ≈ 1, 0, 24/25 (eps tiny); w = (1 − cos)^1
    const tau = flswTemperature().create({ beta: 2, gamma: 1, eps: 0 }, ctx)(zS, zT, 4) as tf.Tensor;
    const w = [0, 1, 1 / 25];
    const mean = (w[0]! + w[1]! + w[2]!) / 3;
    (tau.arraySync() as number[]).forEach((v, i) => expect(v).toBeCloseTo(4 + 2 * (mean - w[i]!), 5));
    const t3 = flswTemperature().create({ beta: 1, gamma: 2 }, ctx)(
      tf.reshape(zS, [1, 3, 2]),
      tf.reshape(zT, [1, 3, 2]),
      4,
    ) as tf.Tensor;
    expect(t3.shape).toEqual([1, 3]);
  });
  it('cwsm: w = 1/(max softmax(z_S) + 1e-3), student only', () => {
    const tau = cwsmTemperature().create({ beta: 0.5 }, ctx)(zS, zT, 3) as tf.Tensor;
    const w = [
      [1, 0],
      [0, 2],
      [3, 4],
    ].map((r) => {
      const e = r.map(Math.exp);
      return 1 / (Math.max(...e) / (e[0]! + e[1]!) + 1e-3);
    });
    const mean = w.reduce((a, b) => a + b, 0) / 3;
    (tau.arraySync() as number[]).forEach((v, i) => expect(v).toBeCloseTo(3 + 0.5 * (mean - w[i]!), 5));
  });
  it('results are detached: zero gradient, no NaN even for all-zero logits rows; no leaks', () => {
    const flsw = flswTemperature().create({ beta: 1, gamma: 2 }, ctx);
    const cwsm = cwsmTemperature().create({ beta: 1 }, ctx);
    const z = tf.tensor2d([
      [0, 0],
      [1, 2],
    ]);
    for (const f of [flsw, cwsm]) {
      const g = tf.grad((x: tf.Tensor) =>
        tf.sum(tf.mul(f(x, tf.slice(zT, [0, 0], [2, -1]), 4) as tf.Tensor, tf.sum(x, -1))),
      )(z);
      // only the explicit sum(x) path carries gradient: d/dx = τ_row
      const tau = f(z, tf.slice(zT, [0, 0], [2, -1]), 4) as tf.Tensor;
      const t = tau.arraySync() as number[];
      expect(g.arraySync()).toEqual([
        [t[0], t[0]],
        [t[1], t[1]],
      ]);
    }
    const before = tf.memory().numTensors;
    (flsw(zS, zT, 4) as tf.Tensor).dispose();
    (cwsm(zS, zT, 4) as tf.Tensor).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
  it('declares TextBrewer positional parameters', () => {
    expect(flswTemperature().params).toEqual(['beta', 'gamma', 'eps']);
    expect(cwsmTemperature().params).toEqual(['beta']);
    expect(constantTemperature().params).toEqual([]);
  });
  it('option and input errors', () => {
    expect(() => flswTemperature().create({ beta: 1 }, ctx)).toThrow(/needs option "gamma"/);
    expect(() => cwsmTemperature().create({ beta: 'x' }, ctx)).toThrow(/"beta" must be a finite number/);
    const f = cwsmTemperature().create({ beta: 1 }, ctx);
    expect(() => f(zS, tf.zeros([3, 3]), 4)).toThrow(/logitsS has shape \(3, 2\) but logitsT has shape \(3, 3\)/);
    expect(() => f(tf.zeros([3, 2], 'int32'), zT, 4)).toThrow(/float32/);
  });
});

describe('weight schedulers', () => {
  it('linear_decay = 1 − x, linear_growth = x', () => {
    expect(linearDecayWeight().schedule(0.25)).toBe(0.75);
    expect(linearGrowthWeight().schedule(0.25)).toBe(0.25);
    expect(() => linearDecayWeight().schedule(NaN)).toThrow(/finite/);
    expect(pkg.plugins().map((p) => `${p.meta.kind}:${p.meta.name}`)).toEqual([
      'temperature-scheduler:constant',
      'temperature-scheduler:flsw',
      'temperature-scheduler:cwsm',
      'weight-scheduler:linear_decay',
      'weight-scheduler:linear_growth',
    ]);
  });
});
