/**
 * Sentence-pair layout and truncation: the pair template (`[CLS] A [SEP] B [SEP]` for BERT,
 * `<s> A </s></s> B </s>` for RoBERTa) and Hugging Face tokenizers' truncation strategies.
 * @packageDocumentation
 */
import { DistilleryError } from '@distillery/core';
import type { SingleTemplate } from './base.tokenizer.js';

/** One element of a pair template: a special token, or sequence A/B with its type id. */
export type PairTemplateItem =
  { special: { id: number; token: string }; typeId: number } | { sequence: 'A' | 'B'; typeId: number };

/** How a pair is laid out (special tokens, the two sequences, type ids). */
export type PairTemplate = PairTemplateItem[];

/**
 * How to cut a pair that does not fit, as Hugging Face: `longest_first` (default) shortens the longer
 * sequence first, `only_first` / `only_second` cut one side only (an error if that is not enough),
 * `do_not_truncate` leaves both (an error if too long).
 */
export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second' | 'do_not_truncate';

/** Options of `encodePair`. */
export interface PairEncodeOptions {
  /** Total length including special tokens (default: the tokenizer's `maxLength`). */
  maxLength?: number;
  /** @default 'longest_first' */
  truncation?: TruncationStrategy;
}

/** The BERT pair template derived from a single one: `prefix A suffix B suffix`, B and its suffix type 1. */
export function bertPairTemplate(single: SingleTemplate): PairTemplate {
  const sp = (s: SingleTemplate['prefix'][number], typeId: number): PairTemplateItem => ({
    special: { id: s.id, token: s.token },
    typeId,
  });
  return [
    ...single.prefix.map((s) => sp(s, 0)),
    { sequence: 'A', typeId: 0 },
    ...single.suffix.map((s) => sp(s, 0)),
    { sequence: 'B', typeId: 1 },
    ...single.suffix.map((s) => sp(s, 1)),
  ];
}

/** Number of special tokens a template adds. */
export function specialCount(t: PairTemplate): number {
  return t.filter((i) => 'special' in i).length;
}

/**
 * How many pieces of A and B to keep (cut from the right) so that `nA + nB <= room`. `longest_first` follows
 * tokenizers' rule: with s the shorter (A on ties) and l the longer, keep s and room − s when s ≤ room − s,
 * else ⌊room/2⌋ of the shorter and ⌈room/2⌉ of the longer.
 */
export function truncatePair(
  nA: number,
  nB: number,
  room: number,
  strategy: TruncationStrategy = 'longest_first',
): [number, number] {
  if (room < 0)
    throw new DistilleryError('TOKENIZER_OPTIONS', 'maxLength leaves no room for the special tokens of a pair');
  if (nA + nB <= room) return [nA, nB];
  const tooLong = (side: string) =>
    new DistilleryError(
      'TOKENIZER_OPTIONS',
      `pair of ${nA} + ${nB} pieces does not fit in ${room}: truncating ${side} alone is not enough`,
      { hint: 'use truncation "longest_first", or a larger maxLength' },
    );
  switch (strategy) {
    case 'do_not_truncate':
      throw new DistilleryError('TOKENIZER_OPTIONS', `pair of ${nA} + ${nB} pieces exceeds ${room}`, {
        hint: 'use truncation "longest_first" or a larger maxLength',
      });
    case 'only_first':
      if (room - nB < 0) throw tooLong('the first sequence');
      return [room - nB, nB];
    case 'only_second':
      if (room - nA < 0) throw tooLong('the second sequence');
      return [nA, room - nA];
    case 'longest_first': {
      const aShorter = nA <= nB;
      const s = aShorter ? nA : nB;
      const keepS = s <= room - s ? s : Math.floor(room / 2);
      const keepL = room - keepS;
      return aShorter ? [keepS, keepL] : [keepL, keepS];
    }
    default:
      throw new DistilleryError('TOKENIZER_OPTIONS', `unknown truncation strategy "${String(strategy)}"`, {
        hint: 'longest_first, only_first, only_second or do_not_truncate',
      });
  }
}
