import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { probabilityShift, selectLogitsWithMask } from './logits.js';
import { divByCount, maskToFloat, stopGradient, assertFloat, assertSameShape } from './checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('probabilityShift', () => {
  it('swaps the arg-max value with the label value (2-D), out of place', () => {
    const x = tf.tensor2d([
      [1, 5, 2],
      [0, -1, 3],
      [7, 1, 2],
    ]);
    const labels = tf.tensor1d([0, 2, -100], 'int32');
    const before = tf.memory().numTensors;
    const y = probabilityShift(x, labels);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(y.arraySync()).toEqual([
      [5, 1, 2],
      [0, -1, 3],
      [7, 1, 2],
    ]);
    expect(x.arraySync()).toEqual([
      [1, 5, 2],
      [0, -1, 3],
      [7, 1, 2],
    ]);
    tf.dispose([x, labels, y]);
  });
  it('3-D form: label < 0 leaves the row unchanged', () => {
    const x = tf.tensor3d([
      [
        [1, 2, 3],
        [3, 2, 1],
      ],
      [
        [0, 9, 1],
        [4, 4, 0],
      ],
    ]);
    const labels = tf.tensor2d(
      [
        [0, -100],
        [2, 1],
      ],
      undefined,
      'int32',
    );
    const y = probabilityShift(x, labels);
    // ties: first maximal class (index 0 in the last row) is the arg-max
    expect(y.arraySync()).toEqual([
      [
        [3, 2, 1],
        [3, 2, 1],
      ],
      [
        [0, 1, 9],
        [4, 4, 0],
      ],
    ]);
    tf.dispose([x, labels, y]);
  });
  it('is differentiable (a permutation of the entries: gradient of a sum is all ones)', () => {
    const x = tf.tensor2d([
      [1, 5, 2],
      [0, -1, 3],
    ]);
    const labels = tf.tensor1d([0, 1], 'int32');
    const g = tf.grad((v: tf.Tensor) => tf.sum(probabilityShift(v, labels)))(x);
    expect(g.arraySync()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
  });
  it('rejects bad labels and shapes', () => {
    const x = tf.tensor2d([[1, 2]]);
    expect(() => probabilityShift(x, tf.tensor1d([2], 'int32'), 'm')).toThrow(/label 2 at row 0/);
    expect(() => probabilityShift(x, tf.tensor1d([0, 1], 'int32'))).toThrow(/labels have shape \(2\)/);
    expect(() => probabilityShift(tf.tensor2d([[1, 2]], undefined, 'int32'), tf.tensor1d([0], 'int32'))).toThrow(
      /float32/,
    );
  });
});

describe('selectLogitsWithMask', () => {
  const mk = () => ({
    a: tf.tensor2d([
      [1, 2],
      [3, 4],
    ]),
    b: tf.tensor3d([
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      [
        [4, 4],
        [5, 5],
        [6, 6],
      ],
    ]),
    c: tf.tensor3d([
      [
        [-1, 0],
        [-2, 0],
        [-3, 0],
      ],
      [
        [-4, 0],
        [-5, 0],
        [-6, 0],
      ],
    ]),
    m1: tf.tensor2d(
      [
        [1, 1, 0],
        [1, 0, 0],
      ],
      undefined,
      'int32',
    ),
    m2: tf.tensor2d(
      [
        [0, 0, 1],
        [0, 1, 1],
      ],
      undefined,
      'int32',
    ),
  });
  it('one mask per head; 2-D passes through', () => {
    const { a, b, m1, m2 } = mk();
    const [ya, yb] = selectLogitsWithMask([a, b], [m1, m1]);
    expect(ya).toBe(a);
    expect(yb!.arraySync()).toEqual([
      [1, 1],
      [2, 2],
      [4, 4],
    ]);
    const [, yb2] = selectLogitsWithMask([a, b], [m2, m2]);
    expect(yb2!.arraySync()).toEqual([
      [3, 3],
      [5, 5],
      [6, 6],
    ]);
  });
  it('a single mask applies to every 3-D head (TextBrewer bug fixed)', () => {
    const { a, b, c, m1 } = mk();
    const out = selectLogitsWithMask([a, b, c], [m1]);
    expect(out[1]!.arraySync()).toEqual([
      [1, 1],
      [2, 2],
      [4, 4],
    ]);
    expect(out[2]!.arraySync()).toEqual([
      [-1, 0],
      [-2, 0],
      [-4, 0],
    ]);
  });
  it('all-zero mask gives (0, C); gradients flow through the gather', () => {
    const { b } = mk();
    const z = tf.zeros([2, 3], 'int32');
    expect(selectLogitsWithMask([b], [z])[0]!.shape).toEqual([0, 2]);
    const m = tf.tensor2d([
      [1, 0, 1],
      [0, 0, 1],
    ]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(selectLogitsWithMask([x], [m])[0]!))(b);
    expect(g.arraySync()).toEqual([
      [
        [1, 1],
        [0, 0],
        [1, 1],
      ],
      [
        [0, 0],
        [0, 0],
        [1, 1],
      ],
    ]);
  });
  it('errors name the shapes', () => {
    const { a, b, m1 } = mk();
    expect(() => selectLogitsWithMask([b], [tf.ones([2, 4])], 'logits')).toThrow(
      /logits: .*logits\[0\] has shape \(2, 3, 2\) but its mask has shape \(2, 4\)/,
    );
    expect(() => selectLogitsWithMask([a, b, b], [m1, m1])).toThrow(/3 logits tensors but 2 masks/);
  });
});

describe('checks', () => {
  it('divByCount is 0 on empty counts; maskToFloat binarises; stopGradient blocks gradients', () => {
    expect(divByCount(tf.scalar(0), tf.scalar(0)).arraySync()).toBe(0);
    expect(divByCount(tf.scalar(6), tf.scalar(3)).arraySync()).toBe(2);
    expect(
      maskToFloat(
        tf.tensor2d(
          [
            [0, 2],
            [1, 0],
          ],
          undefined,
          'int32',
        ),
        [2, 2],
      ).arraySync(),
    ).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(() => maskToFloat(tf.ones([2, 3]), [2, 2], { where: 'w' })).toThrow(/w: mask has shape \(2, 3\)/);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(stopGradient(tf.square(x)), x)))(tf.tensor1d([2, 3]));
    expect(g.arraySync()).toEqual([4, 9]);
    expect(() => assertFloat(tf.ones([2], 'int32'), 'stateS', { op: 'hidden_mse', where: 'm[0]' })).toThrow(
      /m\[0\]: hidden_mse: stateS must be float32, got int32/,
    );
    expect(() => assertSameShape(tf.ones([2, 3]), tf.ones([2, 4]), ['stateS', 'stateT'])).toThrow(
      /stateS has shape \(2, 3\) but stateT has shape \(2, 4\)/,
    );
  });
});
