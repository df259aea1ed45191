import { describe, expect, it } from 'vitest';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadTokenizer, wordPieceTokenizerFiles } from './load.tokenizer.js';
import { WordPieceTokenizer } from './wordpiece.tokenizer.js';
import { HfJsonTokenizer } from './hf.tokenizer.js';
import { bertNormalize, bertPreTokenize } from './bert.normalizer.js';
import { buildWordPieceVocab } from './vocab.builder.js';
import { loadClinc150 } from '../loaders/clinc150.loader.js';

const teacherDir = sharedPath('models', 'clinc-bert-teacher');
const clincDir = sharedPath('data', 'clinc150');

interface ExpectedBatch {
  texts: string[];
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
}

describe('BERT normaliser and pre-tokeniser', () => {
  it('cleans, strips accents, lowercases, splits punctuation', () => {
    expect(bertNormalize('Café\u0000 CRÈME\u200b\tX\u00a0y\ufffd')).toBe('cafe creme x y');
    expect(bertNormalize('東京')).toBe(' 東  京 ');
    expect(bertPreTokenize("what's $100, ok?")).toEqual(['what', "'", 's', '$', '100', ',', 'ok', '?']);
    expect(bertPreTokenize('  a\u3000b ')).toEqual(['a', 'b']);
  });
});

describe('WordPieceTokenizer (built-in)', () => {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'un', '##aff', '##able', 'a', '##b', 'b', ','];
  const tok = new WordPieceTokenizer(vocab, { maxLength: 6 });
  it('greedy longest match, whole-word [UNK], long words', () => {
    expect(tok.tokenize('Unaffable')).toEqual(['un', '##aff', '##able']);
    expect(tok.tokenize('unaffablex')).toEqual(['[UNK]']);
    expect(tok.tokenize('ab, b')).toEqual(['a', '##b', ',', 'b']);
    expect(tok.tokenize('a'.repeat(101))).toEqual(['[UNK]']);
    expect(tok.tokenize('')).toEqual([]);
  });
  it('truncates from the right keeping [CLS]/[SEP], pads batches', () => {
    expect(tok.encode('a b a b a b').ids).toEqual([2, 8, 10, 8, 10, 3]);
    expect(tok.encode('').ids).toEqual([2, 3]);
    const b = tok.encodeBatch(['a', 'a b'], { labels: [1, 0] });
    expect(b.seqLen).toBe(4);
    expect(Array.from(b.inputIds)).toEqual([2, 8, 3, 0, 2, 8, 10, 3]);
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 1, 0, 1, 1, 1, 1]);
    expect(Array.from(b.labels!)).toEqual([1, 0]);
    expect(tok.encodeBatch(['a'], { padding: 'max_length' }).seqLen).toBe(6);
    expect(tok.encodeBatch(['a'], { padding: 5 }).seqLen).toBe(5);
    expect(() => tok.encodeBatch(['a b a b'], { padding: 3 })).toThrow(/shorter than the longest/);
    expect(() => new WordPieceTokenizer(['a'])).toThrow(/special token "\[CLS\]"/);
  });
  it('a long text encodes as its full tokenization cut to maxLength (early stop is invisible)', () => {
    const long = new WordPieceTokenizer(vocab, { maxLength: 8 });
    // Whitespace runs, punctuation, accents and [UNK] words around the cut points of the prefix search.
    const unit = 'unaffable  ab,\tb Ünaffable xyz\n\n a ';
    for (const reps of [1, 3, 40, 400]) {
      const text = unit.repeat(reps) + 'b';
      const full = long.tokenize(text);
      const n = Math.min(6, full.length);
      expect(long.encode(text).tokens).toEqual(['[CLS]', ...full.slice(0, n), '[SEP]']);
    }
    // One very long "word" with no whitespace for the prefix search to cut at.
    expect(long.encode('ab'.repeat(5000) + ' a').tokens).toEqual(['[CLS]', '[UNK]', 'a', '[SEP]']);
  });
  it('writes HF tokenizer files that @huggingface/tokenizers reads back identically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    for (const [name, text] of Object.entries(wordPieceTokenizerFiles(tok))) writeFileSync(join(dir, name), text);
    const hf = loadTokenizer(dir);
    expect(hf).toBeInstanceOf(HfJsonTokenizer);
    expect(hf.maxLength).toBe(6);
    for (const t of ['Unaffable, ab', 'b b b b b b b', 'x']) expect(hf.encode(t)).toEqual(tok.encode(t));
    expect(loadTokenizer(dir, { implementation: 'wordpiece' }).encode('ab')).toEqual(tok.encode('ab'));
  });
});

describe.skipIf(!teacherDir)(`teacher tokenizer (${teacherDir ? 'shared present' : SHARED_SKIP_MESSAGE})`, () => {
  const expected = teacherDir ? JSON.parse(readFileSync(join(teacherDir, 'expected.json'), 'utf8')) : {};
  const batches: ExpectedBatch[] = teacherDir ? [expected, ...expected.batches] : [];
  for (const impl of ['hf', 'wordpiece'] as const) {
    it(`${impl}: reproduces expected.json input_ids, masks and type ids for every batch`, () => {
      const tok = loadTokenizer(teacherDir!, { implementation: impl });
      expect(tok.maxLength).toBe(64);
      expect(tok.vocabSize).toBe(2971);
      for (const b of batches) {
        const enc = tok.encodeBatch(b.texts);
        expect(enc.seqLen).toBe(b.input_ids[0]!.length);
        expect(Array.from(enc.inputIds)).toEqual(b.input_ids.flat());
        expect(Array.from(enc.attentionMask)).toEqual(b.attention_mask.flat());
        expect(Array.from(enc.tokenTypeIds)).toEqual(b.token_type_ids.flat());
      }
      expect(tok.encode(expected.texts[0]).tokens).toEqual(expected.tokens[0]);
      expect(tok.encodeBatch(['is this ok?']).inputIds).toContain(1); // '?' never seen in training → [UNK]
    });
  }
  it.skipIf(!clincDir)('built-in and tokenizer.json implementations agree on all CLINC150 test texts', () => {
    const hf = loadTokenizer(teacherDir!, { implementation: 'hf' });
    const wp = loadTokenizer(teacherDir!, { implementation: 'wordpiece' });
    const { test } = loadClinc150(clincDir!);
    let same = 0;
    for (const ex of test)
      if (JSON.stringify(hf.encode(ex.text).ids) === JSON.stringify(wp.encode(ex.text).ids)) same++;
    expect(same).toBe(test.length);
  });
  it.skipIf(!clincDir)('long texts encode as their full tokenization cut to maxLength, in both implementations', () => {
    const { test } = loadClinc150(clincDir!);
    const seps = [' ', '  ', '\n', '\t ', ' \n\n'];
    for (const impl of ['hf', 'wordpiece'] as const) {
      const tok = loadTokenizer(teacherDir!, { implementation: impl });
      for (let start = 0; start < 400; start += 37) {
        const long = test
          .slice(start, start + 60)
          .map((e, i) => e.text + seps[i % seps.length])
          .join('');
        const full = tok.tokenize(long);
        expect(full.length).toBeGreaterThan(200);
        expect(tok.encode(long).tokens, `${impl} @${start}`).toEqual(['[CLS]', ...full.slice(0, 62), '[SEP]']);
      }
    }
  });
  it.skipIf(!clincDir)('buildWordPieceVocab reproduces the teacher vocab.txt from the training split', () => {
    const { train } = loadClinc150(clincDir!);
    const vocab = buildWordPieceVocab(
      train.map((e) => e.text),
      { minFreq: 2 },
    );
    const ref = readFileSync(join(teacherDir!, 'vocab.txt'), 'utf8')
      .split('\n')
      .filter((l, i, a) => i < a.length - 1 || l !== '');
    expect(vocab.length).toBe(2971);
    expect(vocab).toEqual(ref);
    const small = buildWordPieceVocab(
      train.map((e) => e.text),
      { maxSize: 500 },
    );
    expect(small.length).toBe(500);
    expect(small.slice(-36)).toEqual([...'abcdefghijklmnopqrstuvwxyz0123456789'].map((c) => `##${c}`));
    expect(new WordPieceTokenizer(small).tokenize('zyzzyva')).not.toContain('[UNK]');
  });
});
