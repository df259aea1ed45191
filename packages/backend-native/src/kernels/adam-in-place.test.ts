/**
 * `DistilleryAdamWInPlace` against `DistilleryAdamW` (itself tested against the op-by-op formula on cpu): the same
 * bits over several steps, for parameters large enough to be split across threads (inside one parameter and across
 * parameters) and tiny ones; and the refusals that keep it from rewriting a buffer another tensor sees.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { nativeReady, rand } from '../testing/compare.js';
import { FUSED_KERNELS } from './fused.js';

const ready = nativeReady();

const run = (name: string, inputs: tf.NamedTensorMap | tf.Tensor[], attrs = {}): tf.Tensor[] => {
  const out = tf.engine().runKernel<tf.Tensor | tf.Tensor[]>(name, inputs as tf.NamedTensorMap, attrs);
  return Array.isArray(out) ? out : [out];
};

const [b1, b2, eps] = [0.9, 0.999, 1e-8];
/** Per parameter: l2, decay, stepSize at step t (Adam L2 on the second parameter, AdamW decay on the others). */
const scalars = (i: number, t: number) => {
  const lr = 0.01 * (i + 1);
  return { l2: i === 1 ? 0.05 : 0, decay: i === 1 ? 1 : 1 - lr * 0.01, stepSize: lr / (1 - b1 ** t) };
};

describe.skipIf(!ready)('DistilleryAdamWInPlace', () => {
  // 300 000 + 70 000 elements: above 2 × 2^17, so both threads get work and one thread's range spans parameters.
  const shapes = [[600, 500], [1], [5, 33], [70_000], [0]];

  it('gives the out-of-place kernel bit for bit over 4 steps, rewriting p, m and v in their own buffers', async () => {
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    const mk = () =>
      shapes.map((s, i) => ({ p: tf.keep(rand(s, 3 + i)), m: tf.keep(tf.zeros(s)), v: tf.keep(tf.zeros(s)) }));
    const ref = mk();
    const got = mk();
    const ids = got.map((x) => [x.p.dataId, x.m.dataId, x.v.dataId]);
    for (let t = 1; t <= 4; t++) {
      const grads = tf.tidy(() => shapes.map((s, i) => tf.mul(rand(s, 100 * t + i), t % 2 ? 1 : 1e-4)));
      const sqrtBc2 = Math.sqrt(1 - b2 ** t);
      tf.tidy(() => {
        ref.forEach((x, i) => {
          const [p, m, v] = run(
            FUSED_KERNELS.adamW,
            { ...x, g: grads[i]! },
            { beta1: b1, beta2: b2, eps, sqrtBc2, ...scalars(i, t) },
          );
          tf.dispose([x.p, x.m, x.v]);
          Object.assign(x, { p: tf.keep(p!), m: tf.keep(m!), v: tf.keep(v!) });
        });
      });
      const per = shapes.map((_, i) => scalars(i, t));
      const [count] = run(
        FUSED_KERNELS.adamWInPlace,
        got.flatMap((x, i) => [x.p, grads[i]!, x.m, x.v]),
        {
          beta1: b1,
          beta2: b2,
          eps,
          sqrtBc2,
          l2: per.map((s) => s.l2),
          decay: per.map((s) => s.decay),
          stepSize: per.map((s) => s.stepSize),
        },
      );
      expect(count!.dataSync()[0]).toBe(shapes.length);
      tf.dispose([count!, ...grads]);
    }
    got.forEach((x, i) => {
      expect([x.p.dataId, x.m.dataId, x.v.dataId]).toEqual(ids[i]); // no new buffers
      for (const k of ['p', 'm', 'v'] as const) {
        expect(Array.from(x[k].dataSync()), `${k} of parameter ${i}`).toEqual(Array.from(ref[i]![k].dataSync()));
      }
    });
    tf.dispose([...ref, ...got].flatMap((x) => [x.p, x.m, x.v]));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a p, m or v that another tensor shares, or that appears twice, and writes nothing', async () => {
    await tf.setBackend('native');
    const p = tf.tensor1d([1, 2]);
    const g = tf.tensor1d([0.5, 0.5]);
    const m = tf.zeros([2]);
    const v = tf.zeros([2]);
    const attrs = { beta1: b1, beta2: b2, eps, sqrtBc2: 0.03, l2: [0], decay: [1], stepSize: [0.1] };
    const view = tf.clone(p); // zero-copy on native: shares p's buffer
    expect(() => run(FUSED_KERNELS.adamWInPlace, [p, g, m, v], attrs)).toThrow(
      /parameter 0's p shares its buffer with another tensor/,
    );
    view.dispose();
    expect(() => run(FUSED_KERNELS.adamWInPlace, [p, g, m, m], attrs)).toThrow(/parameter 0's v shares its buffer/);
    expect(() => run(FUSED_KERNELS.adamWInPlace, [p, p, m, v], attrs)).toThrow(/parameter 0's g is also written/);
    expect(() => run(FUSED_KERNELS.adamWInPlace, [p, g, m], attrs)).toThrow(/inputs come in fours/);
    expect(() => run(FUSED_KERNELS.adamWInPlace, [p, g, m, v], { ...attrs, decay: [] })).toThrow(
      /attr decay needs 1 values/,
    );
    expect(Array.from(p.dataSync())).toEqual([1, 2]);
    expect(Array.from(m.dataSync())).toEqual([0, 0]);
    tf.dispose([p, g, m, v]);
  });
});
