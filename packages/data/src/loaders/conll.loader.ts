/**
 * CoNLL-format token-classification data (CoNLL-2003 NER and the like): one word per line with its columns
 * separated by whitespace (the word first, the tag last by default), a blank line between sentences,
 * `-DOCSTART-` lines skipped. Also: word → sub-token label alignment as transformers does it.
 * @packageDocumentation
 */
import { DistilleryError } from '@distillery/core';
import { readTextFile } from './text.loaders.js';
import type { TextTokenizer } from '../tokenizers/base.tokenizer.js';
import type { EncodedExample } from '../batching.js';
import type { LabelMap } from '../labels.js';

/** One sentence: its words and their tags (BIO/IOB2). */
export interface TaggedSentence {
  words: string[];
  tags: string[];
  /** Line of the sentence's first word. */
  line: number;
}

/** Options of {@link loadConll}. */
export interface ConllOptions {
  /** Column of the tag (0-based; negative counts from the end). @default -1 */
  tagColumn?: number;
}

/** Load a CoNLL file. Lines with a word but no tag column are errors naming `file:line`. */
export function loadConll(file: string, opts: ConllOptions = {}): { sentences: TaggedSentence[]; file: string } {
  const col = opts.tagColumn ?? -1;
  const sentences: TaggedSentence[] = [];
  let cur: TaggedSentence | undefined;
  const flush = () => {
    if (cur && cur.words.length) sentences.push(cur);
    cur = undefined;
  };
  readTextFile(file)
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '') return flush();
      const cols = line.trim().split(/\s+/);
      if (cols[0] === '-DOCSTART-') return flush();
      const tagAt = col < 0 ? cols.length + col : col;
      if (cols.length < 2 || tagAt <= 0 || tagAt >= cols.length) {
        throw new DistilleryError('DATA_INVALID', `expected "word … tag" columns, found ${JSON.stringify(line)}`, {
          where: `${file}:${i + 1}`,
          hint: 'one word per line with its tag in the last column; a blank line between sentences',
        });
      }
      cur ??= { words: [], tags: [], line: i + 1 };
      cur.words.push(cols[0]!);
      cur.tags.push(cols[tagAt]!);
    });
  flush();
  return { sentences, file };
}

/**
 * Labels per token from labels per word, as transformers' token-classification recipe: the first sub-token of
 * each word gets the word's label, the other sub-tokens and special tokens −100 (ignored), or with
 * `labelAllSubtokens` every sub-token gets its word's label.
 */
export function alignWordLabels(
  wordIds: readonly (number | null)[],
  wordLabels: readonly number[],
  opts: { labelAllSubtokens?: boolean } = {},
): number[] {
  let prev: number | null = null;
  return wordIds.map((w) => {
    const first = w !== prev;
    prev = w;
    if (w === null) return -100;
    return first || opts.labelAllSubtokens ? wordLabels[w]! : -100;
  });
}

/** Encode tagged sentences: word-split encoding, tags mapped through `labels`, aligned to sub-tokens. */
export function encodeTaggedSentences(
  sentences: readonly TaggedSentence[],
  tokenizer: TextTokenizer,
  labels: LabelMap,
  opts: { maxLength?: number; labelAllSubtokens?: boolean } = {},
): (EncodedExample & { wordIds: (number | null)[] })[] {
  if (!tokenizer.encodeWords)
    throw new DistilleryError('TOKENIZER_UNSUPPORTED', 'this tokenizer cannot encode pre-split words', {
      hint: 'use loadTokenizer()',
    });
  return sentences.map((s, i) => {
    const enc = tokenizer.encodeWords!(s.words, opts);
    const ids = s.tags.map((t) => labels.id(t, `sentence ${i} (line ${s.line})`));
    return { ...enc, tokenLabels: alignWordLabels(enc.wordIds, ids, opts) };
  });
}
