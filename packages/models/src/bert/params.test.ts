/**
 * `ParamStore.stacked`: the query, key and value weights as one linear layer. A frozen store keeps the stacked copy
 * until one of its weights is replaced; a trainable one stacks per call, and each weight gets its own rows of the
 * gradient.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { ParamStore } from './params.js';

const names = ['a.weight', 'b.weight', 'c.weight'];

function fill(store: ParamStore): void {
  store.set('a.weight', tf.tensor2d([1, 2, 3, 4], [2, 2]));
  store.set('b.weight', tf.tensor2d([5, 6], [1, 2]));
  store.set('c.weight', tf.tensor2d([7, 8, 9, 10], [2, 2]));
}

describe('ParamStore.stacked', () => {
  it('frozen: stacks rows once, keeps the copy, and drops it when a weight is replaced', async () => {
    await tf.setBackend('cpu');
    const store = new ParamStore(false);
    fill(store);
    const s1 = store.stacked(names);
    expect(s1.shape).toEqual([5, 2]);
    expect(Array.from(s1.dataSync())).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const count = tf.memory().numTensors;
    expect(store.stacked(names)).toBe(s1); // cached: no new tensor
    expect(tf.memory().numTensors).toBe(count);
    store.set('b.weight', tf.tensor2d([0, -1], [1, 2]));
    expect(s1.isDisposed).toBe(true);
    expect(Array.from(store.stacked(names).dataSync())).toEqual([1, 2, 3, 4, 0, -1, 7, 8, 9, 10]);
    store.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });

  it('trainable: each weight gets its own rows of the gradient', async () => {
    await tf.setBackend('cpu');
    const store = new ParamStore(true);
    fill(store);
    const vars = store.variables();
    const w = tf.tensor2d(
      Array.from({ length: 10 }, (_, i) => i + 1),
      [5, 2],
    );
    const { value, grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(tf.mul(store.stacked(names), w)));
    expect(value.dataSync()[0]).toBe([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].reduce((a, x, i) => a + x * (i + 1), 0));
    expect(Array.from(grads[vars['a.weight']!.name]!.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(grads[vars['b.weight']!.name]!.dataSync())).toEqual([5, 6]);
    expect(Array.from(grads[vars['c.weight']!.name]!.dataSync())).toEqual([7, 8, 9, 10]);
    tf.dispose([value, w, ...Object.values(grads)]);
    store.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });
});
