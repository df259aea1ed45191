/**
 * Building a WordPiece vocabulary from raw texts, for students trained from scratch. This is the
 * recipe the CLINC150 teacher's `vocab.txt` was made with, so it reproduces that file exactly.
 * @packageDocumentation
 */
import { DistilleryError } from '@distillery/core';
import { bertNormalize, bertPreTokenize, type BertNormalizerOptions } from './bert.normalizer.js';

/** Options of {@link buildWordPieceVocab}. */
export interface BuildVocabOptions extends BertNormalizerOptions {
  /** Keep pre-tokenised words seen at least this often (default 2). */
  minFreq?: number;
  /** Upper bound on the whole vocabulary (special + words + character pieces); most frequent words win. */
  maxSize?: number;
  /** Leading special tokens (default `[PAD] [UNK] [CLS] [SEP] [MASK]`, ids 0–4). */
  specialTokens?: readonly string[];
  /** Characters that must be spellable, as single tokens and `##` continuations (default a–z, 0–9). */
  alphabet?: string;
}

/** Compare by Unicode code point (Python's `sorted` order for str), not by UTF-16 unit. */
function cmpCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Build a vocabulary: special tokens; then every pre-tokenised word seen at least `minFreq` times,
 * by descending frequency then alphabetically; then the single characters of `alphabet` not yet
 * present; then `##` + each character of `alphabet`. Returns tokens by id (write one per line as `vocab.txt`).
 */
export function buildWordPieceVocab(texts: Iterable<string>, opts: BuildVocabOptions = {}): string[] {
  const {
    minFreq = 2,
    maxSize,
    specialTokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'],
    alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789',
  } = opts;
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const w of bertPreTokenize(bertNormalize(text, opts))) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const special = new Set(specialTokens);
  const words = [...counts]
    .filter(([w, c]) => c >= minFreq && !special.has(w))
    .sort((a, b) => b[1] - a[1] || cmpCodePoints(a[0], b[0]))
    .map(([w]) => w);
  const chars = Array.from(alphabet);
  const tail = (kept: Set<string>) => [...chars.filter((c) => !kept.has(c)), ...chars.map((c) => `##${c}`)];
  let kept = words;
  if (maxSize !== undefined) {
    const floor = specialTokens.length + 2 * chars.length;
    if (maxSize < floor) {
      throw new DistilleryError(
        'VOCAB_TOO_SMALL',
        `maxSize ${maxSize} is below the ${floor} special and character tokens`,
        { hint: `use maxSize >= ${floor}` },
      );
    }
    // Shrink the word list until words + missing characters + continuations fit.
    let n = Math.min(words.length, maxSize - specialTokens.length);
    while (n > 0 && specialTokens.length + n + tail(new Set(words.slice(0, n))).length > maxSize) n--;
    kept = words.slice(0, n);
  }
  return [...specialTokens, ...kept, ...tail(new Set(kept))];
}
