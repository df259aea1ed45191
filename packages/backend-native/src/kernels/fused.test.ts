import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { maxRelDiff, nativeReady, rand, runOn } from '../testing/compare.js';
import { FUSED_KERNELS } from './fused.js';

const ready = nativeReady();

function layerNormOps(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const axis = x.shape.length - 1;
  const centered = tf.sub(x, tf.mean(x, axis, true));
  const variance = tf.mean(tf.square(centered), axis, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

const geluOps = (x: tf.Tensor): tf.Tensor => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));

const run = (name: string, inputs: tf.NamedTensorMap, attrs = {}): tf.Tensor[] => {
  const out = tf.engine().runKernel<tf.Tensor | tf.Tensor[]>(name, inputs, attrs);
  return Array.isArray(out) ? out : [out];
};

function expectClose(got: Float32Array[], ref: Float32Array[], tol = 1e-5): void {
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) expect(maxRelDiff(got[i]!, ref[i]!)).toBeLessThan(tol);
}

describe.skipIf(!ready)('fused native kernels (vs tfjs ops on cpu)', () => {
  const shapes = [
    [2, 3, 8],
    [5, 33],
    [1, 1],
  ];

  it('are registered on native only', () => {
    for (const name of Object.values(FUSED_KERNELS)) {
      expect(tf.getKernel(name, 'native')).toBeDefined();
      expect(tf.getKernel(name, 'cpu')).toBeUndefined();
    }
  });

  for (const shape of shapes) {
    const cols = shape[shape.length - 1]!;
    const inputs = () => ({
      x: tf.add(tf.mul(rand(shape, 3), 2), 0.3),
      gamma: tf.add(rand([cols], 4), 1),
      beta: rand([cols], 5),
      dy: rand(shape, 6),
    });
    it(`LayerNorm forward and gradients [${shape.join(', ')}]`, async () => {
      const ref = await runOn('cpu', () => {
        const { x, gamma, beta, dy } = inputs();
        const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layerNormOps(a, g, b, 1e-12), dy));
        return [layerNormOps(x, gamma, beta, 1e-12), ...tf.grads(f)([x, gamma, beta])];
      });
      const got = await runOn('native', () => {
        const { x, gamma, beta, dy } = inputs();
        const [y, mean, rstd] = run(FUSED_KERNELS.layerNorm, { x, gamma, beta }, { epsilon: 1e-12 });
        expect(mean!.shape).toEqual([x.size / cols]);
        return [y!, ...run(FUSED_KERNELS.layerNormGrad, { dy, x, gamma, mean: mean!, rstd: rstd! })];
      });
      expectClose(got, ref);
    });
  }

  it('GELU forward and gradient (x in [-6, 6])', async () => {
    const inputs = () => ({ x: tf.mul(rand([7, 65], 8), 6), dy: rand([7, 65], 9) });
    const ref = await runOn('cpu', () => {
      const { x, dy } = inputs();
      return [geluOps(x), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(geluOps(a), dy)))(x)];
    });
    const got = await runOn('native', () => {
      const { x, dy } = inputs();
      return [...run(FUSED_KERNELS.gelu, { x }), ...run(FUSED_KERNELS.geluGrad, { dy, x })];
    });
    expectClose(got, ref);
  });

  for (const [type, wd] of [
    ['adamw', 0.01],
    ['adamw', 0],
    ['adam', 0.01],
  ] as const) {
    it(`${type} update (wd ${wd}) over 5 steps matches the op-by-op formula`, async () => {
      const [b1, b2, eps, lr] = [0.9, 0.999, 1e-8, 0.05];
      const steps = (fused: boolean) => () => {
        let p = rand([4, 9], 10);
        let m = tf.zerosLike(p);
        let v = tf.zerosLike(p);
        for (let t = 1; t <= 5; t++) {
          const g = tf.mul(rand([4, 9], 20 + t), t % 2 ? 1 : 1e-3);
          const bc1 = 1 - b1 ** t;
          const bc2 = 1 - b2 ** t;
          if (fused) {
            const attrs = {
              beta1: b1,
              beta2: b2,
              eps,
              l2: type === 'adam' ? wd : 0,
              decay: type === 'adamw' ? 1 - lr * wd : 1,
              stepSize: lr / bc1,
              sqrtBc2: Math.sqrt(bc2),
            };
            [p, m, v] = run(FUSED_KERNELS.adamW, { p, g, m, v }, attrs) as [tf.Tensor, tf.Tensor, tf.Tensor];
          } else {
            const grad = type === 'adam' ? tf.add(g, tf.mul(p, wd)) : g;
            m = tf.add(tf.mul(m, b1), tf.mul(grad, 1 - b1));
            v = tf.add(tf.mul(v, b2), tf.mul(tf.square(grad), 1 - b2));
            const base = type === 'adamw' ? tf.mul(p, 1 - lr * wd) : p;
            p = tf.sub(base, tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), eps)), lr / bc1));
          }
        }
        return [p, m, v];
      };
      expectClose(await runOn('native', steps(true)), await runOn('cpu', steps(false)));
    });
  }

  it('rejects non-float32 inputs', async () => {
    await tf.setBackend('native');
    const x = tf.tensor1d([1, 2], 'int32');
    expect(() => run(FUSED_KERNELS.gelu, { x })).toThrow(/float32/);
    x.dispose();
  });
});
