/**
 * The fused Adam/AdamW kernel of the 'native' backend (`@distillery/backend-native`, when its addon is built)
 * against the op-by-op path on cpu: same parameters and moments over several steps.
 */
import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Optimizer, FUSED_ADAM_KERNEL } from './optimizer.js';
import { OptimizerSchema } from '../config/schema.js';
import { probeBackends } from '../backend/select.js';

// core's backend probe loads @distillery/backend-native optionally and registers 'native' when its addon is built.
const native = (await probeBackends()).find((p) => p.name === 'native');
const ready = native?.available === true;
// Under CI=true the native backend must load: a missing or broken addon fails this file instead of skipping it.
if (!ready && (process.env.CI === 'true' || process.env.CI === '1')) {
  throw new Error(`CI=true requires the native backend, but it is unavailable: ${native?.detail ?? 'not probed'}`);
}

/** Deterministic values in [-1, 1), scaled; independent of the backend. */
function values(n: number, seed: number, scale = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return ((s / 2147483648) * 2 - 1) * scale;
  });
}

/** Runs 5 optimizer steps on `backend`; returns the parameters and moments, flattened. */
async function run(backend: string, cfg: Record<string, unknown>): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const params = new Map([
    ['w', tf.variable(tf.tensor2d(values(12, 1), [3, 4]))],
    ['layer.bias', tf.variable(tf.tensor1d(values(4, 2)))],
  ]);
  const opt = new Optimizer(OptimizerSchema.parse(cfg));
  for (let t = 1; t <= 5; t++) {
    // Alternating large and tiny gradients exercise the bias corrections and eps.
    const scale = t % 2 ? 1 : 1e-4;
    const grads = new Map([
      ['w', tf.tensor2d(values(12, 10 + t, scale), [3, 4])],
      ['layer.bias', tf.tensor1d(values(4, 20 + t, scale))],
    ]);
    opt.step(params, grads, (name) => (name === 'w' ? 0.01 : 0.02));
    tf.dispose([...grads.values()]);
  }
  const state = opt.state().tensors;
  const out = [
    ...params.values(),
    ...Object.keys(state)
      .sort()
      .map((k) => state[k]!),
  ].map((x) => Float32Array.from(x.dataSync()));
  opt.dispose();
  tf.dispose([...params.values()]);
  return out;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1e-3, Math.abs(b[i]!)));
  return worst;
}

describe.skipIf(!ready)('fused Adam/AdamW on the native backend (vs the op-by-op path on cpu)', () => {
  it('the kernel is registered on native only', () => {
    expect(tf.getKernel(FUSED_ADAM_KERNEL, 'native')).toBeDefined();
    expect(tf.getKernel(FUSED_ADAM_KERNEL, 'cpu')).toBeUndefined();
  });

  const configs: Record<string, Record<string, unknown>> = {
    'adamw with noDecay': { type: 'adamw', lr: 0.01, weightDecay: 0.05, noDecay: ['bias'] },
    'adamw without decay': { type: 'adamw', lr: 0.01, weightDecay: 0 },
    'adam with L2': { type: 'adam', lr: 0.01, weightDecay: 0.05, betas: [0.8, 0.99], eps: 1e-6 },
  };
  for (const [label, cfg] of Object.entries(configs)) {
    it(`${label}: same parameters and moments over 5 steps`, async () => {
      const ref = await run('cpu', cfg);
      const got = await run('native', cfg);
      expect(got.length).toBe(6); // 2 parameters, their m and v
      for (let i = 0; i < ref.length; i++) expect(maxRelDiff(got[i]!, ref[i]!)).toBeLessThan(1e-5);
    });
  }

  it("updates parameters it owns in place, all in one kernel call, with the per-parameter kernel's bits", async () => {
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    /** 3 steps over 3 parameters; `shareEvery` takes a zero-copy view of each parameter before each step (no in-place update then). */
    const steps = async (shareEvery: boolean) => {
      // Each variable owns its buffer (its initial tensor disposed), as a model's parameters do.
      const own = (t: tf.Tensor) => {
        const v = tf.variable(t);
        t.dispose();
        return v;
      };
      const params = new Map([
        ['a', own(tf.tensor2d(values(12, 1), [3, 4]))],
        ['b.bias', own(tf.tensor1d(values(4, 2)))],
        ['c', own(tf.tensor1d(values(7, 3)))],
      ]);
      const views: { view: tf.Tensor; was: number[] }[] = [];
      const ids = [...params.values()].map((p) => p.dataId);
      const opt = new Optimizer(
        OptimizerSchema.parse({ type: 'adamw', lr: 0.01, weightDecay: 0.05, noDecay: ['bias'] }),
      );
      const kernels: string[] = [];
      for (let t = 1; t <= 3; t++) {
        const grads = new Map([...params].map(([k, p], i) => [k, tf.tensor(values(p.size, 10 * t + i), p.shape)]));
        // Zero-copy views of this step's parameters: they must keep their values.
        if (shareEvery)
          for (const p of params.values()) views.push({ view: tf.clone(p), was: Array.from(p.dataSync()) });
        const info = await tf.profile(() => opt.step(params, grads, (name) => (name === 'c' ? 0.02 : 0.01)));
        kernels.push(...info.kernels.map((k) => k.name).filter((n) => n.startsWith('DistilleryAdamW')));
        tf.dispose([...grads.values()]);
      }
      const moved = [...params.values()].map((p, i) => p.dataId !== ids[i]);
      const out = [...params.values(), ...Object.values(opt.state().tensors)].map((x) => Array.from(x.dataSync()));
      for (const { view, was } of views) expect(Array.from(view.dataSync())).toEqual(was);
      opt.dispose();
      tf.dispose([...params.values(), ...views.map((x) => x.view)]);
      return { kernels, moved, out };
    };
    const inPlace = await steps(false);
    const shared = await steps(true);
    expect(inPlace.kernels).toEqual(['DistilleryAdamWInPlace', 'DistilleryAdamWInPlace', 'DistilleryAdamWInPlace']);
    expect(inPlace.moved).toEqual([false, false, false]);
    expect(shared.kernels).toEqual(Array(9).fill('DistilleryAdamW'));
    expect(shared.moved).toEqual([true, true, true]);
    expect(inPlace.out).toEqual(shared.out);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a variable listed under two names gets both updates, by the per-parameter kernel', async () => {
    await tf.setBackend('native');
    const run = async (twice: boolean) => {
      const init = tf.tensor1d([1, -2, 3]);
      const w = tf.variable(init);
      init.dispose();
      const params = new Map(
        twice
          ? [
              ['w', w],
              ['tied', w],
            ]
          : [['w', w]],
      );
      const opt = new Optimizer(OptimizerSchema.parse({ type: 'adamw', lr: 0.1, weightDecay: 0.01 }));
      const kernels: string[] = [];
      for (let t = 1; t <= 2; t++) {
        const grads = new Map([
          ['w', tf.tensor1d([0.5, 0.25, -1])],
          ['tied', tf.tensor1d([0.1, -0.2, 0.3])],
        ]);
        const info = await tf.profile(() => opt.step(params, grads, () => 0.1));
        kernels.push(...info.kernels.map((k) => k.name).filter((n) => n.startsWith('DistilleryAdamW')));
        tf.dispose([...grads.values()]);
      }
      const out = Array.from(w.dataSync());
      opt.dispose();
      w.dispose();
      return { kernels, out };
    };
    const tied = await run(true);
    expect(tied.kernels).toEqual(Array(4).fill('DistilleryAdamW'));
    expect(tied.out).not.toEqual((await run(false)).out); // the second name's gradient was applied too
  });

  it('updates the variables, not buffers that other tensors share', async () => {
    await tf.setBackend('native');
    const p = tf.variable(tf.tensor1d([1, -2]));
    const snapshot = tf.clone(p); // zero-copy on native: shares p's buffer
    const opt = new Optimizer(OptimizerSchema.parse({ type: 'adamw', lr: 0.1, weightDecay: 0.01 }));
    const g = tf.tensor1d([0.5, 0.25]);
    opt.step(new Map([['p', p]]), new Map([['p', g]]), () => 0.1);
    expect(Array.from(snapshot.dataSync())).toEqual([1, -2]);
    expect(Array.from(p.dataSync())).toEqual([expect.closeTo(1 * 0.999 - 0.1, 6), expect.closeTo(-2 * 0.999 - 0.1, 6)]);
    tf.dispose([p, snapshot, g]);
    opt.dispose();
  });
});
