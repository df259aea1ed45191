import { describe, it, expect } from 'vitest';
import { cacheRowsOf, collate, makePairedBatches, type EncodedExample } from './batching.js';

const item = (n: number, key: string, base: number, label?: number): EncodedExample => ({
  ids: Array.from({ length: n }, (_, i) => base + i),
  tokens: [],
  typeIds: new Array(n).fill(0),
  key,
  ...(label !== undefined ? { label } : {}),
});

describe('paired batches and per-example keys', () => {
  it('both sides hold the same examples in the same order, each padded on its own', () => {
    const keys = Array.from({ length: 10 }, (_, i) => `text ${i}`);
    const t = keys.map((k, i) => item(2 + (i % 5), k, 100, i % 3));
    const s = keys.map((k, i) => item(3 + ((i * 7) % 4), k, 200, i % 3));
    for (const e of [0, 1]) {
      const batches = makePairedBatches(t, s, { batchSize: 4, shuffle: true, seed: 3, bucketPools: 2 }, e);
      expect(batches.flatMap((b) => b.teacher.keys!).sort()).toEqual([...keys].sort());
      for (const b of batches) {
        expect(b.student.keys).toEqual(b.teacher.keys);
        expect(Array.from(b.student.labels!)).toEqual(Array.from(b.teacher.labels!));
        expect(b.student.seqLen).toBe(Math.max(...b.student.keys!.map((k) => s[keys.indexOf(k)]!.ids.length)));
      }
    }
  });

  it('unlabelled rows get label -1; cache rows carry the unpadded ids and lengths', () => {
    const b = collate([item(3, 'a', 5, 1), item(2, 'b', 7)]);
    expect(Array.from(b.labels!)).toEqual([1, -1]);
    expect(cacheRowsOf(b)).toEqual({
      keys: ['a\u00005,6,7\u00000,0,0', 'b\u00007,8\u00000,0'],
      lengths: [3, 2],
      seqLen: 3,
    });
    expect(collate([item(2, 'c', 1)]).labels).toBeUndefined();
  });
});
