import { describe, it, expect } from 'vitest';
import type { DistillModel } from '@distillery/core';
import type { Kit } from './kits.js';
import { collapseWarning, formatScore, scoreSplit } from './evaluate.js';

type B = { pred: number[]; gold: number[] };
// The "model" answers what the batch says: enough to check the bookkeeping.
const kit = {
  predict: (_m: unknown, b: B) => Int32Array.from(b.pred),
  labelsOf: (b: B) => Int32Array.from(b.gold),
} as unknown as Kit<B>;
const model = {} as DistillModel<B>;
const OOS = 2;

/** A split of n examples, `oosShare` of them gold "oos", scored by a model that answers "oos" to `answerOos` of them. */
function split(n: number, oosShare: number, answerOos: number): B[] {
  const gold = Array.from({ length: n }, (_, i) => (i < n * oosShare ? OOS : i % 2));
  const pred = gold.map((g, i) => (i < n * answerOos ? OOS : g));
  return [
    { pred: pred.slice(0, n / 2), gold: gold.slice(0, n / 2) },
    { pred: pred.slice(n / 2), gold: gold.slice(n / 2) },
  ];
}

describe('scoring a split', () => {
  it('the same collapsed model: very different accuracy on splits with 3 % and 18 % oos, the same in-scope accuracy', async () => {
    // It answers "oos" for 60 % of the texts and gets the rest right.
    const val = await scoreSplit(kit, model, split(1000, 0.03, 0.6), { oosId: OOS });
    const test = await scoreSplit(kit, model, split(1000, 0.18, 0.6), { oosId: OOS });
    expect(val.metrics.accuracy).toBeCloseTo(0.43, 6);
    expect(test.metrics.accuracy).toBeCloseTo(0.58, 6);
    expect(val.metrics.oosRecall).toBe(1);
    // In-scope accuracy: (n·0.4 right) / in-scope rows — comparable across the splits.
    expect(val.metrics.inScopeAccuracy).toBeCloseTo(400 / 970, 6);
    expect(test.metrics.inScopeAccuracy).toBeCloseTo(400 / 820, 6);
    expect(test.top).toEqual({ id: OOS, share: 0.6, goldShare: 0.18 });
    const w = collapseWarning('the student', 'test', test, (id) => (id === OOS ? 'oos' : `intent${id}`));
    expect(w).toMatch(/predicts "oos" for 60\.0 % of the test examples \(18\.0 % of their labels\).*in-scope accuracy/);
    expect(formatScore(test.metrics)).toBe('accuracy 58.00 %, in-scope 48.78 %, oos recall 100.00 %');
  });

  it('no warning for a model whose top label is frequent in the data; ignored gold positions (< 0) are not scored', async () => {
    const s = await scoreSplit(kit, model, [{ pred: [0, 0, 0, 1, 1, 0], gold: [0, 0, 0, 1, -100, -100] }]);
    expect(s.n).toBe(4);
    expect(s.metrics).toEqual({ accuracy: 1 });
    const many = await scoreSplit(kit, model, split(100, 0, 0));
    expect(collapseWarning('x', 'test', many, String)).toBeUndefined();
  });
});
