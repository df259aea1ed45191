import { describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WordPieceTokenizer } from '../tokenizers/wordpiece.tokenizer.js';
import { loadTextCorpus, MlmBatches } from './corpus.js';
import { maskingFromTokenizer, maskingSeed, maskTokens, MLM_IGNORE } from './masking.js';

const vocab = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'the',
  'cat',
  'sat',
  'on',
  'mat',
  'un',
  '##aff',
  '##able',
  'dog',
  'a',
  'big',
  'red',
  'ball',
];
const tok = new WordPieceTokenizer(vocab, { maxLength: 32 });
const texts = ['the cat sat on the mat', 'a big red ball', 'unaffable dog', 'the dog sat', 'a cat on a mat the end'];

describe('MLM masking (DataCollatorForLanguageModeling)', () => {
  it('chooses ~15% of maskable tokens, 80/10/10 among them, never special tokens or padding', () => {
    const m = maskingFromTokenizer(tok);
    const batch = tok.encodeBatch(texts);
    let maskable = 0,
      chosen = 0,
      asMask = 0,
      asRandom = 0,
      kept = 0;
    for (let s = 0; s < 3000; s++) {
      const out = maskTokens(batch, { ...m, seed: maskingSeed(7, 0, s) });
      for (let i = 0; i < batch.inputIds.length; i++) {
        const orig = batch.inputIds[i]!;
        const special = m.specialIds.has(orig) || batch.attentionMask[i] === 0;
        if (special) {
          expect(out.labels![i]).toBe(MLM_IGNORE);
          expect(out.inputIds[i]).toBe(orig);
          continue;
        }
        maskable++;
        if (out.labels![i] === MLM_IGNORE) {
          expect(out.inputIds[i]).toBe(orig);
          continue;
        }
        chosen++;
        expect(out.labels![i]).toBe(orig);
        const v = out.inputIds[i]!;
        if (v === m.maskId) asMask++;
        else if (v === orig) kept++;
        else {
          asRandom++;
          expect(m.specialIds.has(v)).toBe(false);
        }
      }
    }
    expect(chosen / maskable).toBeCloseTo(0.15, 2);
    // A random draw may hit the original token (1/13 here): count those as "unchanged" in the tolerance.
    expect(asMask / chosen).toBeGreaterThan(0.78);
    expect(asMask / chosen).toBeLessThan(0.82);
    expect(asRandom / chosen).toBeGreaterThan(0.08);
    expect(asRandom / chosen).toBeLessThan(0.1);
    expect(kept / chosen).toBeGreaterThan(0.09);
    expect(kept / chosen).toBeLessThan(0.12);
  });

  it('chooses at least one token per batch (no empty MLM/KD term)', () => {
    const m = maskingFromTokenizer(tok);
    const batch = tok.encodeBatch(['the cat']);
    for (let s = 0; s < 50; s++) expect(maskTokens(batch, { ...m, seed: s }).labels!.some((v) => v >= 0)).toBe(true);
  });

  it('is a pure function of the seed; the input batch is untouched', () => {
    const m = maskingFromTokenizer(tok);
    const batch = tok.encodeBatch(texts);
    const ids = Array.from(batch.inputIds);
    const a = maskTokens(batch, { ...m, seed: 3 });
    const b = maskTokens(batch, { ...m, seed: 3 });
    const c = maskTokens(batch, { ...m, seed: 4 });
    expect(Array.from(a.inputIds)).toEqual(Array.from(b.inputIds));
    expect(Array.from(a.labels!)).toEqual(Array.from(b.labels!));
    expect(Array.from(a.labels!)).not.toEqual(Array.from(c.labels!));
    expect(Array.from(batch.inputIds)).toEqual(ids);
  });

  it('whole-word masking chooses all pieces of a word together', () => {
    const m = maskingFromTokenizer(tok, { wholeWord: true });
    const row = 'unaffable dog unaffable the cat sat on the mat unaffable a big red ball';
    const batch = tok.encodeBatch([row, row, row, row]);
    const pieces = Array.from(batch.inputIds).map((id) => tok.idToToken(id));
    expect(pieces).toContain('##aff');
    let words = 0,
      total = 0;
    for (let s = 0; s < 500; s++) {
      const out = maskTokens(batch, { ...m, seed: s });
      for (let i = 0; i < pieces.length; i++) {
        if (pieces[i]!.startsWith('##')) expect(out.labels![i] === MLM_IGNORE).toBe(out.labels![i - 1] === MLM_IGNORE);
        if (pieces[i] === 'un') {
          total++;
          if (out.labels![i] !== MLM_IGNORE) words++;
        }
      }
    }
    expect(words / total).toBeGreaterThan(0.12);
    expect(words / total).toBeLessThan(0.18);
  });

  it('reads text and JSONL corpora; MlmBatches re-masks per epoch, identically for the same epoch', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlm-'));
    writeFileSync(join(dir, 'c.txt'), 'the cat\n\nthe dog sat\n');
    writeFileSync(join(dir, 'c.jsonl'), '{"text":"a big red ball"}\n{"text":"the mat"}\n');
    writeFileSync(join(dir, 'bad.jsonl'), '{"text":"ok"}\n{"txt":"no"}\n');
    expect(loadTextCorpus(join(dir, 'c.txt'))).toEqual(['the cat', 'the dog sat']);
    expect(loadTextCorpus(join(dir, 'c.jsonl'))).toEqual(['a big red ball', 'the mat']);
    expect(() => loadTextCorpus(join(dir, 'bad.jsonl'))).toThrow(/bad\.jsonl:2/);
    const mb = new MlmBatches([...texts, ...texts, ...texts], tok, maskingFromTokenizer(tok), {
      batchSize: 4,
      seed: 1,
    });
    expect(mb.length).toBe(4);
    const e0 = mb.epoch(0).map((b) => Array.from(b.labels!));
    expect(mb.epoch(0).map((b) => Array.from(b.labels!))).toEqual(e0);
    expect(mb.epoch(1).map((b) => Array.from(b.labels!))).not.toEqual(e0);
  });
});
