import { describe, expect, it } from 'vitest';
import { entityScores, getEntities, wordTagsFromTokens } from './seqeval.js';

const ents = (xs: string[]) => getEntities(xs).map((e) => [e.type, e.start, e.end]);

describe('seqeval semantics (hand-computed)', () => {
  it('get_entities: B/I spans, I- without B- starts an entity, a type change splits', () => {
    expect(ents(['B-PER', 'I-PER', 'O', 'B-LOC'])).toEqual([
      ['PER', 0, 1],
      ['LOC', 3, 3],
    ]);
    expect(ents(['I-PER', 'I-PER', 'O', 'I-LOC'])).toEqual([
      ['PER', 0, 1],
      ['LOC', 3, 3],
    ]);
    expect(ents(['B-PER', 'I-LOC', 'I-LOC'])).toEqual([
      ['PER', 0, 0],
      ['LOC', 1, 2],
    ]);
    expect(ents(['B-PER', 'B-PER', 'I-PER'])).toEqual([
      ['PER', 0, 0],
      ['PER', 1, 2],
    ]);
    expect(ents(['O', 'O'])).toEqual([]);
    // IOBES: S and E end entities.
    expect(ents(['S-LOC', 'B-PER', 'E-PER', 'I-PER'])).toEqual([
      ['LOC', 0, 0],
      ['PER', 1, 2],
      ['PER', 3, 3],
    ]);
  });

  it("micro F1 of seqeval's README example is 0.5; per-type scores", () => {
    const gold = [
      ['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    const pred = [
      ['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    const s = entityScores(gold, pred);
    expect(s.f1).toBeCloseTo(0.5, 12);
    expect(s.precision).toBeCloseTo(0.5, 12);
    expect(s.byType.PER).toEqual({ precision: 1, recall: 1, f1: 1, support: 1 });
    expect(s.byType.MISC!.f1).toBe(0);
  });

  it('an I- prediction without B- matches a gold B-I entity of the same span', () => {
    const s = entityScores([['B-ORG', 'I-ORG', 'O']], [['I-ORG', 'I-ORG', 'O']]);
    expect(s.f1).toBe(1);
    // Sentences are joined with O: an entity never spans two sentences.
    expect(getEntities([['I-PER'], ['I-PER']]).length).toBe(2);
    // 2 gold, 3 predicted, 1 correct: P = 1/3, R = 1/2, F1 = 0.4.
    const t = entityScores([['B-PER', 'O', 'B-LOC', 'I-LOC']], [['B-PER', 'B-LOC', 'B-LOC', 'O']]);
    expect([t.precision, t.recall, t.f1].map((v) => +v.toFixed(6))).toEqual([0.333333, 0.5, 0.4]);
  });

  it('word tags from first sub-token predictions; truncated words are O', () => {
    expect(wordTagsFromTokens([null, 0, 0, 1, null], [0, 1, 2, 2, 0], 3, ['O', 'B-PER', 'I-PER'])).toEqual([
      'B-PER',
      'I-PER',
      'O',
    ]);
  });
});
