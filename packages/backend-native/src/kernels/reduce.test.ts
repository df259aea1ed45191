import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { maxRelDiff, nativeReady, rand, runOn } from '../testing/compare.js';
import { reductionView } from './reduce.js';

const ready = nativeReady();

describe('reductionView', () => {
  it('views contiguous axis blocks as [outer, reduce, inner]', () => {
    expect(reductionView([2, 3, 4], [0, 1])).toMatchObject({ outer: 1, reduce: 6, inner: 4, outShape: [4] });
    expect(reductionView([2, 3, 4], [2])).toMatchObject({ outer: 6, reduce: 4, inner: 1, keptShape: [2, 3, 1] });
    expect(reductionView([2, 1, 4], [0, 2])).toMatchObject({ outer: 1, reduce: 8, inner: 1 });
    expect(reductionView([2, 3, 4], [0, 2])).toBeNull();
  });
});

describe.skipIf(!ready)('native Sum / Mean (vs cpu)', () => {
  const cases: Array<[number[], number | number[], boolean]> = [
    [[6, 5, 7], [0, 1], false],
    [[6, 5, 7], 2, true],
    [[6, 5, 7], 1, false],
    [[6, 5, 7], [0, 2], false],
    [[6, 5, 7], [0, 1, 2], false],
    [[300, 40], 0, false],
  ];
  for (const [shape, axis, keepDims] of cases) {
    it(`sum/mean ${JSON.stringify(shape)} axis=${JSON.stringify(axis)} keepDims=${keepDims}`, async () => {
      const f = () => [tf.sum(rand(shape, 3), axis, keepDims), tf.mean(rand(shape, 4), axis, keepDims)];
      const ref = await runOn('cpu', f);
      const got = await runOn('native', f);
      for (let i = 0; i < ref.length; i++) expect(maxRelDiff(got[i]!, ref[i]!)).toBeLessThan(1e-5);
    });
  }
});
