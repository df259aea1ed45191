import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { maxRelDiff, nativeReady, rand, runOn } from '../testing/compare.js';

const ready = nativeReady();

async function same(f: () => tf.Tensor | tf.Tensor[], tol = 1e-5): Promise<void> {
  const ref = await runOn('cpu', f);
  const got = await runOn('native', f);
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) expect(maxRelDiff(got[i]!, ref[i]!)).toBeLessThan(tol);
}

describe.skipIf(!ready)('native elementwise kernels (vs cpu)', () => {
  const binaries = {
    add: tf.add,
    sub: tf.sub,
    mul: tf.mul,
    div: tf.div,
    squaredDifference: tf.squaredDifference,
    maximum: tf.maximum,
    minimum: tf.minimum,
  } as const;
  const shapes: Array<[number[], number[]]> = [
    [
      [3, 4],
      [3, 4],
    ],
    [[2, 3, 4], [4]],
    [[4], [2, 3, 4]],
    [
      [2, 1, 4],
      [3, 1],
    ],
    [[2, 3, 4], []],
    [
      [5, 1, 3],
      [1, 6, 1],
    ],
  ];
  for (const [name, op] of Object.entries(binaries)) {
    it(`${name} with broadcasting`, async () => {
      await same(() =>
        shapes.map(([as, bs], i) => {
          const b = name === 'div' ? tf.add(tf.abs(rand(bs, 20 + i)), 0.5) : rand(bs, 20 + i);
          return op(rand(as, 10 + i), b);
        }),
      );
    });
  }

  it('int32 inputs fall back to the stock kernels', async () => {
    await same(() => [tf.add(tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([4], [1], 'int32'))]);
  });

  const unaries = {
    exp: tf.exp,
    erf: tf.erf,
    tanh: tf.tanh,
    neg: tf.neg,
    square: tf.square,
    sigmoid: tf.sigmoid,
    relu: tf.relu,
    abs: tf.abs,
  } as const;
  for (const [name, op] of Object.entries(unaries)) {
    it(name, async () => {
      await same(() => op(tf.mul(rand([7, 33], 2), 3)));
    });
  }
  it('sqrt, rsqrt, log, reciprocal on positive inputs', async () => {
    await same(() => {
      const x = tf.add(tf.abs(rand([5, 9], 4)), 0.1);
      return [tf.sqrt(x), tf.rsqrt(x), tf.log(x), tf.reciprocal(x)];
    });
  });

  it('softmax over the last axis', async () => {
    await same(() => [tf.softmax(tf.mul(rand([2, 3, 17], 5), 8)), tf.softmax(rand([4, 1], 6))]);
  });

  it('identity/clone shares data safely', async () => {
    await same(() => {
      const x = rand([3, 3], 7);
      const y = tf.clone(x);
      x.dispose();
      return tf.add(y, 1);
    });
  });
});

describe.skipIf(!ready)('native gather / cast (vs cpu)', () => {
  it('gather along axes 0, 1 and -1, with 2-D indices', async () => {
    await same(() => {
      const x = rand([5, 6, 4], 11);
      const idx = tf.tensor2d([4, 0, 2, 2], [2, 2], 'int32');
      return [
        tf.gather(x, idx, 0),
        tf.gather(x, tf.tensor1d([5, 1, 0], 'int32'), 1),
        tf.gather(x, tf.tensor1d([3, 3], 'int32'), -1),
      ];
    });
  });
  it('transpose: head split, 2-D, inner-axis moves, rank 5', async () => {
    await same(() => [
      tf.transpose(rand([2, 3, 4, 5], 13), [0, 2, 1, 3]),
      tf.transpose(rand([7, 3], 14)),
      tf.transpose(rand([45, 70], 17)),
      tf.transpose(rand([2, 3, 4], 15), [2, 0, 1]),
      tf.transpose(rand([2, 1, 3, 2, 2], 16), [4, 3, 2, 1, 0]),
    ]);
  });
  it('cast to the same dtype and to int32', async () => {
    await same(() => {
      const x = tf.mul(rand([4, 5], 12), 3);
      return [tf.add(tf.cast(x, 'float32'), 1), tf.cast(tf.cast(x, 'int32'), 'float32')];
    });
  });
});

describe.skipIf(!ready)('NaN and infinities propagate like the stock kernels', () => {
  it('exp, erf, sigmoid, relu, softmax, sum, add', async () => {
    await same(() => {
      const x = tf.tensor2d([NaN, 1, -2, 0.5, Infinity, -Infinity, 3, -1], [2, 4]);
      const finite = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
      return [
        tf.exp(x),
        tf.erf(x),
        tf.tanh(x),
        tf.sigmoid(x),
        tf.relu(x),
        tf.softmax(x),
        tf.sum(x, 1),
        tf.add(x, finite),
        tf.maximum(x, finite),
        tf.exp(tf.mul(finite, -100)),
      ];
    });
  });
});
