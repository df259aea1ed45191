import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Optimizer, clipByGlobalNorm } from './optimizer.js';
import { OptimizerSchema, LrSchedulerSchema } from '../config/schema.js';
import { lrFactor } from './lr-schedule.js';

beforeAll(() => tf.setBackend('cpu'));

describe('optimizers (PyTorch semantics)', () => {
  it('AdamW: decoupled decay, bias-corrected update (torch.optim.AdamW, two steps)', () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const opt = new Optimizer(OptimizerSchema.parse({ type: 'adamw', lr: 0.1, weightDecay: 0.01 }));
    const params = new Map([['p', p]]);
    const g1 = tf.tensor1d([0.5, 0.25]);
    opt.step(params, new Map([['p', g1]]), () => 0.1);
    // step 1: m̂ = g, v̂ = g², update = lr·g/(|g|+eps) = ±0.1
    expect(Array.from(p.dataSync())).toEqual([expect.closeTo(1 * 0.999 - 0.1, 6), expect.closeTo(-2 * 0.999 - 0.1, 6)]);
    const before = p.dataSync()[0]!;
    opt.step(params, new Map([['p', tf.tensor1d([-0.5, 0.25])]]), () => 0.1);
    const m = 0.9 * 0.05 + 0.1 * -0.5;
    const v = 0.999 * 0.00025 + 0.001 * 0.25;
    const ref = before * 0.999 - (0.1 / (1 - 0.9 ** 2)) * (m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** 2) + 1e-8));
    expect(p.dataSync()[0]).toBeCloseTo(ref, 6);
    expect(opt.steps).toBe(2);
    opt.dispose();
  });
  it('noDecay exempts matching names; sgd and adam (L2) variants', () => {
    const bias = tf.variable(tf.tensor1d([1]));
    const opt = new Optimizer(OptimizerSchema.parse({ type: 'sgd', lr: 0.5, weightDecay: 0.1, noDecay: ['bias'] }));
    opt.step(new Map([['layer.bias', bias]]), new Map([['layer.bias', tf.tensor1d([0.2])]]), () => 0.5);
    expect(bias.dataSync()[0]).toBeCloseTo(0.9, 6);
    const w = tf.variable(tf.tensor1d([1]));
    opt.step(new Map([['w', w]]), new Map([['w', tf.tensor1d([0.2])]]), () => 0.5);
    expect(w.dataSync()[0]).toBeCloseTo(1 - 0.5 * (0.2 + 0.1), 6);
  });
  it('appliedLr is the rate each update used (read back from the parameters: Δp = −lr·g for sgd)', () => {
    const opt = new Optimizer(OptimizerSchema.parse({ type: 'sgd', lr: 1, weightDecay: 0 }));
    const p = new Map([
      ['w', tf.variable(tf.tensor1d([1, 2]))],
      ['proj.w', tf.variable(tf.tensor1d([3]))],
    ]);
    const g = new Map([
      ['w', tf.tensor1d([0.5, -1])],
      ['proj.w', tf.tensor1d([2])],
    ]);
    const before = new Map([...p].map(([k, v]) => [k, Array.from(v.dataSync())]));
    opt.step(p, g, (name) => (name.startsWith('proj') ? 0.25 : 0.1));
    for (const [k, v] of p) {
      const observed = Array.from(v.dataSync()).map((x, i) => (before.get(k)![i]! - x) / g.get(k)!.dataSync()[i]!);
      for (const lr of observed) expect(lr).toBeCloseTo(opt.appliedLr.get(k)!, 6);
    }
    expect([...opt.appliedLr]).toEqual([
      ['w', 0.1],
      ['proj.w', 0.25],
    ]);
    opt.step(new Map([['w', p.get('w')!]]), g, () => 0.05);
    expect([...opt.appliedLr]).toEqual([['w', 0.05]]); // only the last step's rates
    opt.dispose();
  });
  it('clips by global norm like clip_grad_norm_', () => {
    const g = new Map([
      ['a', tf.tensor1d([3])],
      ['b', tf.tensor1d([4])],
    ]);
    expect(clipByGlobalNorm(g, 1)).toBeCloseTo(5, 6);
    expect(g.get('a')!.dataSync()[0]).toBeCloseTo((3 / (5 + 1e-6)) * 1, 5);
  });
  it('LR schedules: linear warmup then decay to 0 (Hugging Face)', () => {
    const s = LrSchedulerSchema.parse({ type: 'linear', warmupSteps: 2 });
    expect([0, 1, 2, 3, 4, 6].map((i) => lrFactor(s, i, 6))).toEqual([0, 0.5, 1, 0.75, 0.5, 0]);
    expect(lrFactor(LrSchedulerSchema.parse({ type: 'constant_with_warmup', warmupProportion: 0.5 }), 1, 4)).toBe(0.5);
  });
});
