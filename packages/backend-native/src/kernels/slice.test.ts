import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { registerAllGradients } from '@distillery/core';
import { nativeReady, rand, runOn } from '../testing/compare.js';

const ready = nativeReady();

/** [x's shape, begin, size] (size -1: to the end of the axis). */
const CASES: [number[], number[], number[]][] = [
  [
    [32, 64, 48],
    [0, 0, 0],
    [32, 1, 48],
  ], // BERT's first token
  [[7], [2], [4]],
  [
    [5, 6],
    [1, 2],
    [3, -1],
  ],
  [
    [5, 6],
    [2, 0],
    [2, 6],
  ], // whole rows: one run
  [
    [4, 5, 6],
    [1, 1, 1],
    [2, 3, 4],
  ],
  [
    [2, 3, 4, 5],
    [1, 0, 2, 0],
    [1, 3, 2, 5],
  ],
  [
    [2, 3, 4, 5],
    [0, 1, 0, 3],
    [2, 2, 4, 1],
  ], // runs of one element
  [
    [3, 4],
    [0, 0],
    [3, 4],
  ], // the whole tensor
  [
    [3, 4],
    [1, 0],
    [0, 4],
  ], // empty
];

describe.skipIf(!ready)('Slice on native (heap-to-heap run copies)', () => {
  beforeAll(async () => {
    await registerAllGradients();
    await tf.setBackend('native');
  });

  it('matches cpu for float32, int32 and bool, every rank and run shape', async () => {
    const before = tf.memory().numTensors;
    for (const [shape, begin, size] of CASES) {
      const f = () => {
        const x = rand(shape, shape.length + begin[0]!);
        return [
          tf.slice(x, begin, size),
          tf.cast(tf.slice(tf.cast(tf.mul(x, 100), 'int32'), begin, size), 'float32'),
          tf.cast(tf.slice(tf.greater(x, 0), begin, size), 'float32'),
        ];
      };
      const [native, cpu] = [await runOn('native', f), await runOn('cpu', f)];
      for (let i = 0; i < 3; i++)
        expect(Array.from(native[i]!), `${JSON.stringify([shape, begin, size])} output ${i}`).toEqual(
          Array.from(cpu[i]!),
        );
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads no whole input back into JavaScript, and its gradient is the stock Pad', async () => {
    await tf.setBackend('native');
    const x = rand([32, 64, 48], 3);
    const backend = tf.backend() as unknown as { readSync: (d: object) => unknown };
    const readSync = backend.readSync.bind(backend);
    let reads = 0;
    backend.readSync = (d) => {
      reads++;
      return readSync(d);
    };
    try {
      const y = tf.slice(x, [0, 0, 0], [32, 1, 48]);
      expect(reads).toBe(0);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(v, [0, 0, 0], [32, 1, 48])))(x);
      const v = g.dataSync();
      expect(v[0]).toBe(1);
      expect(v[48]).toBe(0); // second token: outside the slice
      tf.dispose([y, g]);
    } finally {
      backend.readSync = readSync;
      x.dispose();
    }
  });
});
