/**
 * LayerNorm and GELU through the fused kernels of the 'native' backend (`@distillery/backend-native`, when its
 * addon is built) against the plain tfjs ops on cpu: values and gradients.
 */
import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { activation, layerNorm } from './layers.js';
import { FUSED, fusedAvailable } from './fused-ops.js';
import type { ParamStore } from './params.js';
import { probeBackends } from '@distillery/core';

// core's backend probe loads @distillery/backend-native optionally and registers 'native' when its addon is built.
const native = (await probeBackends()).find((p) => p.name === 'native');
const ready = native?.available === true;
// Under CI=true the native backend must load: a missing or broken addon fails this file instead of skipping it.
if (!ready && (process.env.CI === 'true' || process.env.CI === '1')) {
  throw new Error(`CI=true requires the native backend, but it is unavailable: ${native?.detail ?? 'not probed'}`);
}

function values(n: number, seed: number, scale = 1, shift = 0): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return ((s / 2147483648) * 2 - 1) * scale + shift;
  });
}

async function runOn(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(fn);
  const vals = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  return vals;
}

function expectClose(got: Float32Array[], ref: Float32Array[]): void {
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    let worst = 0;
    for (let j = 0; j < ref[i]!.length; j++) worst = Math.max(worst, Math.abs(got[i]![j]! - ref[i]![j]!) / Math.max(1, Math.abs(ref[i]![j]!)));
    expect(worst).toBeLessThan(1e-5);
  }
}

describe.skipIf(!ready)('fused LayerNorm and GELU on native (vs tfjs ops on cpu)', () => {
  it('are used on native, not on cpu', async () => {
    await tf.setBackend('native');
    expect(fusedAvailable(FUSED.layerNorm, FUSED.layerNormGrad) && fusedAvailable(FUSED.gelu, FUSED.geluGrad)).toBe(true);
    await tf.setBackend('cpu');
    expect(fusedAvailable(FUSED.layerNorm, FUSED.layerNormGrad) || fusedAvailable(FUSED.gelu, FUSED.geluGrad)).toBe(false);
  });

  for (const shape of [[2, 5, 16], [3, 7]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const d = shape[shape.length - 1]!;
    it(`layerNorm: value and gradients for x, gamma, beta under variableGrads [${shape.join(', ')}]`, async () => {
      const step = (): tf.Tensor[] => {
        const gamma = tf.variable(tf.tensor1d(values(d, 3, 0.5, 1)), true, `ln${shape.length}.weight`);
        const beta = tf.variable(tf.tensor1d(values(d, 4, 0.5)), true, `ln${shape.length}.bias`);
        const store = { get: (name: string) => (name.endsWith('weight') ? gamma : beta) } as unknown as ParamStore;
        const x = tf.tensor(values(n, 5, 3, 0.7), shape);
        const dy = tf.tensor(values(n, 6), shape);
        const f = (xi: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(layerNorm(store, 'ln', xi, 1e-12), dy));
        const dx = tf.grad(f)(x);
        const { grads } = tf.variableGrads(() => f(x), [gamma, beta]);
        const out = [layerNorm(store, 'ln', x, 1e-12), dx, grads[gamma.name]!, grads[beta.name]!];
        gamma.dispose();
        beta.dispose();
        return out;
      };
      expectClose(await runOn('native', step), await runOn('cpu', step));
    });
  }

  it('activation gelu: value and gradient', async () => {
    const step = (): tf.Tensor[] => {
      const x = tf.tensor(values(6 * 40, 7, 5), [6, 40]);
      const dy = tf.tensor(values(6 * 40, 8), [6, 40]);
      return [activation('gelu', x), tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(activation('gelu', xi), dy)))(x)];
    };
    expectClose(await runOn('native', step), await runOn('cpu', step));
  });
});
