import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { truncatePair } from './pair.js';
import { WordPieceTokenizer } from './wordpiece.tokenizer.js';
import { loadPairs } from '../loaders/pairs.loader.js';
import { encodePairExamples, collate } from '../batching.js';
import { LabelMap } from '../labels.js';

describe('pair truncation (Hugging Face tokenizers semantics)', () => {
  it('longest_first: shorter kept whole when it fits in half, else floor/ceil halves (a shorter on ties)', () => {
    expect(truncatePair(5, 3, 10)).toEqual([5, 3]);
    expect(truncatePair(41, 21, 61)).toEqual([40, 21]);
    expect(truncatePair(56, 56, 61)).toEqual([30, 31]);
    expect(truncatePair(65, 4, 61)).toEqual([57, 4]);
    expect(truncatePair(4, 65, 61)).toEqual([4, 57]);
    expect(truncatePair(40, 35, 61)).toEqual([31, 30]);
  });
  it('only_second / only_first cut one side, or say why not', () => {
    expect(truncatePair(5, 10, 12, 'only_second')).toEqual([5, 7]);
    expect(truncatePair(10, 5, 12, 'only_first')).toEqual([7, 5]);
    expect(() => truncatePair(13, 5, 12, 'only_second')).toThrow(/truncating the second sequence alone is not enough/);
    expect(() => truncatePair(13, 5, 12, 'do_not_truncate')).toThrow(/exceeds 12/);
  });
});

describe('WordPiece pairs', () => {
  const tok = new WordPieceTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', 'c', 'd'], {
    maxLength: 8,
  });
  it('[CLS] a [SEP] b [SEP] with type ids 0/1; encode(a, b) is encodePair', () => {
    const e = tok.encode('a b', 'c d');
    expect(e.tokens).toEqual(['[CLS]', 'a', 'b', '[SEP]', 'c', 'd', '[SEP]']);
    expect(e.typeIds).toEqual([0, 0, 0, 0, 1, 1, 1]);
    expect(tok.encode('a b', 'c d c d', { truncation: 'only_second' }).tokens).toEqual([
      '[CLS]',
      'a',
      'b',
      '[SEP]',
      'c',
      'd',
      'c',
      '[SEP]',
    ]);
  });
  it('encodeWords aligns tokens to words', () => {
    const e = tok.encodeWords(['a', 'zz', 'b']);
    expect(e.tokens).toEqual(['[CLS]', 'a', '[UNK]', 'b', '[SEP]']);
    expect(e.wordIds).toEqual([null, 0, 1, 2, null]);
  });
});

describe('pair loaders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pairs-'));
  it('JSONL with text_a/text_b or textA/textB, CSV and TSV; errors name file:line and the field', () => {
    const j = join(dir, 'p.jsonl');
    writeFileSync(
      j,
      '{"text_a": "a", "text_b": "b", "label": "same"}\n\n{"text_a": "c", "text_b": "d", "label": "different"}\n',
    );
    expect(loadPairs(j).examples).toEqual([
      { textA: 'a', textB: 'b', label: 'same' },
      { textA: 'c', textB: 'd', label: 'different' },
    ]);
    const c = join(dir, 'p.csv');
    writeFileSync(c, 'textA,textB,label\n"a, b",c,1.5\n');
    expect(loadPairs(c).examples).toEqual([{ textA: 'a, b', textB: 'c', label: '1.5' }]);
    const t = join(dir, 'p.tsv');
    writeFileSync(t, 'sentence1\tsentence2\tlabel\nx\ty\t0\n');
    expect(loadPairs(t).examples[0]!.textB).toBe('y');
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"text_a": "a", "text_b": "b", "label": "x"}\n{"text_a": "a", "label": "x"}\n');
    expect(() => loadPairs(bad)).toThrow(/bad\.jsonl:2.*missing field "text_b"/s);
  });
  it('encodes pairs with labels or regression targets into batches', () => {
    const tok = new WordPieceTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'a', 'b'], { maxLength: 8 });
    const ex = [
      { textA: 'a', textB: 'b', label: 'same' },
      { textA: 'a b', textB: 'b', label: 'different' },
    ];
    const batch = collate(encodePairExamples(ex, tok, new LabelMap(['different', 'same'])));
    expect(Array.from(batch.labels!)).toEqual([1, 0]);
    expect(batch.seqLen).toBe(6);
    const reg = collate(
      encodePairExamples([{ textA: 'a', textB: 'b', label: '3.5' }], tok, undefined, { regression: true }),
    );
    expect(Array.from(reg.targets!)).toEqual([3.5]);
    expect(() =>
      encodePairExamples([{ textA: 'a', textB: 'b', label: 'x' }], tok, undefined, { regression: true }),
    ).toThrow(/must be a number/);
  });
});
