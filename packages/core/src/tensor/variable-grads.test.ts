import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { variableGradsFreeing } from './variable-grads.js';

/** A loss with what the freeing must get right: a tensor used several times, broadcasting, a custom gradient
 *  that returns its dy itself, two-output-like fan-out, a frozen variable and a variable off the path. */
function makeLoss(
  w1: tf.Variable,
  w2: tf.Variable,
  b: tf.Variable,
  frozen: tf.Variable,
  unused: tf.Variable,
  x: tf.Tensor2D,
) {
  const passDy = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor;
    return { value: tf.mul(t, 1), gradFunc: (dy: tf.Tensor) => dy };
  });
  return () => {
    void unused;
    const h = tf.relu(tf.add(tf.matMul(x, w1), b)); // b broadcast over rows
    const h2 = passDy(tf.mul(h, frozen)) as tf.Tensor2D; // a custom gradient returning dy
    const z = tf.add(tf.add(tf.matMul(h2, w2), tf.matMul(h, w2)), tf.sum(tf.square(h), 1, true)); // h used three times
    return tf.mean<tf.Scalar>(tf.square(tf.sub(tf.tanh(z), 0.3)));
  };
}

describe('variableGradsFreeing', () => {
  it('gives tf.variableGrads’ value and gradients bit for bit, leaves no tensor behind, and frees during the backward pass', async () => {
    await tf.setBackend('cpu');
    const x = tf.randomNormal<tf.Rank.R2>([16, 8], 0, 1, 'float32', 1);
    const w1 = tf.variable(tf.randomNormal([8, 12], 0, 0.5, 'float32', 2), true, 'vg.w1');
    const w2 = tf.variable(tf.randomNormal([12, 4], 0, 0.5, 'float32', 3), true, 'vg.w2');
    const b = tf.variable(tf.randomNormal([12], 0, 0.5, 'float32', 4), true, 'vg.b');
    const frozen = tf.variable(tf.randomNormal([12], 1, 0.1, 'float32', 5), false, 'vg.frozen');
    const unused = tf.variable(tf.zeros([3]), true, 'vg.unused');
    const vars = [w1, w2, b, frozen, unused];
    const f = makeLoss(w1, w2, b, frozen, unused, x);
    const ref = tf.variableGrads(f, vars);
    const before = tf.memory().numTensors;
    const got = variableGradsFreeing(f, vars);
    expect(got.value.dataSync()[0]).toBe(ref.value.dataSync()[0]);
    expect(Object.keys(got.grads).sort()).toEqual(Object.keys(ref.grads).sort());
    expect(Object.keys(got.grads).sort()).toEqual(['vg.b', 'vg.frozen', 'vg.w1', 'vg.w2']);
    expect(got.grads['vg.frozen']).toBeNull(); // tf.variableGrads' null for a named non-trainable variable
    for (const k of ['vg.b', 'vg.w1', 'vg.w2'])
      expect(Array.from(got.grads[k]!.dataSync()), k).toEqual(Array.from(ref.grads[k]!.dataSync()));
    const live = (g: tf.NamedTensorMap) => Object.values(g).filter((t): t is tf.Tensor => t !== null);
    tf.dispose([got.value, ...live(got.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    // A deeper chain: tfjs keeps every saved tensor and every intermediate gradient to the end of the backward
    // pass; freeing them as the pass goes lowers its peak.
    const peak = async (run: () => { value: tf.Scalar; grads: tf.NamedTensorMap }) =>
      (
        await tf.profile(() => {
          const r = run();
          tf.dispose([r.value, ...live(r.grads)]);
        })
      ).peakBytes;
    const ws = [0, 1, 2, 3, 4, 5].map((i) =>
      tf.variable(tf.randomNormal([64, 64], 0, 0.2, 'float32', 10 + i), true, `vg.chain${i}`),
    );
    const big = tf.randomNormal<tf.Rank.R2>([256, 64], 0, 1, 'float32', 6);
    const chain = () => tf.mean<tf.Scalar>(ws.reduce<tf.Tensor>((h, w) => tf.tanh(tf.matMul(h, w)), big));
    const pRef = await peak(() => tf.variableGrads(chain, ws));
    const pGot = await peak(() => variableGradsFreeing(chain, ws));
    expect(pGot).toBeLessThan(pRef);
    tf.dispose(ws);
    tf.dispose([x, big, ref.value, ...live(ref.grads), ...vars]);
  });
});
