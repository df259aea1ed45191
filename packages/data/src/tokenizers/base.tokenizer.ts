/**
 * The tokenizer contract and the shared encode/pad logic (truncation, special tokens, padding).
 * @packageDocumentation
 */
import { DistilleryError } from '@distillery/core';
import type { EncodedBatch, Encoding } from '../types.js';
import { bertPairTemplate, specialCount, truncatePair, type PairEncodeOptions, type PairTemplate } from './pair.js';

/** How to pad a batch: to its longest row (default), to `maxLength`, or to a fixed length. */
export type PaddingMode = 'longest' | 'max_length' | number;

/** Options of {@link TextTokenizer.encodeBatch}. */
export interface EncodeBatchOptions {
  /** Overrides the tokenizer's `maxLength` (total length including special tokens). */
  maxLength?: number;
  padding?: PaddingMode;
  /** Class ids to attach as `labels` (one per text). */
  labels?: readonly number[];
}

/** A text tokenizer producing BERT-style inputs. */
export interface TextTokenizer {
  /** Number of ids (largest id + 1). */
  readonly vocabSize: number;
  /** Default maximum total length (special tokens included). */
  readonly maxLength: number;
  readonly padId: number;
  readonly unkId: number;
  /** Word pieces of a text (normalised, no special tokens, not truncated). */
  tokenize(text: string): string[];
  /** Encode one text: special tokens added, truncated from the right to `maxLength`. */
  encode(text: string, opts?: { maxLength?: number }): Encoding;
  /** Encode and pad several texts into a batch. */
  encodeBatch(texts: readonly string[], opts?: EncodeBatchOptions): EncodedBatch;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Encode a sentence pair (`[CLS] a [SEP] b [SEP]`, type ids 0/1 for BERT), truncated by `opts.truncation`. */
  encodePair?(textA: string, textB: string, opts?: PairEncodeOptions): Encoding;
  /** Encode pre-split words (CoNLL); `wordIds[i]` is the word of token i, null for special tokens. */
  encodeWords?(words: readonly string[], opts?: { maxLength?: number }): Encoding & { wordIds: (number | null)[] };
}

/** Special tokens wrapped around a single sequence (`[CLS] $A [SEP]` for BERT). */
export interface SingleTemplate {
  prefix: { id: number; token: string; typeId: number }[];
  suffix: { id: number; token: string; typeId: number }[];
  /** Type id of the sequence's own tokens. */
  typeId: number;
}

/** Pad encodings into an {@link EncodedBatch} (right padding with `padId`, attention mask 0 there). */
export function padEncodings(
  encs: readonly Encoding[],
  padId: number,
  padding: PaddingMode = 'longest',
  maxLength?: number,
  labels?: readonly number[],
): EncodedBatch {
  const longest = encs.reduce((m, e) => Math.max(m, e.ids.length), 0);
  let seqLen = longest;
  if (padding === 'max_length') {
    if (maxLength === undefined)
      throw new DistilleryError('TOKENIZER_OPTIONS', 'padding "max_length" needs a maxLength');
    seqLen = maxLength;
  } else if (typeof padding === 'number') {
    seqLen = padding;
  }
  if (seqLen < longest) {
    throw new DistilleryError(
      'TOKENIZER_OPTIONS',
      `fixed padding length ${seqLen} is shorter than the longest row (${longest})`,
      {
        hint: 'set maxLength to truncate first, or pad to "longest"',
      },
    );
  }
  const batchSize = encs.length;
  const inputIds = new Int32Array(batchSize * seqLen).fill(padId);
  const attentionMask = new Int32Array(batchSize * seqLen);
  const tokenTypeIds = new Int32Array(batchSize * seqLen);
  encs.forEach((e, r) => {
    inputIds.set(e.ids, r * seqLen);
    attentionMask.fill(1, r * seqLen, r * seqLen + e.ids.length);
    tokenTypeIds.set(e.typeIds, r * seqLen);
  });
  const batch: EncodedBatch = { inputIds, attentionMask, tokenTypeIds, batchSize, seqLen };
  if (labels) {
    if (labels.length !== batchSize) {
      throw new DistilleryError('SHAPE_MISMATCH', `${labels.length} labels for ${batchSize} texts`);
    }
    batch.labels = Int32Array.from(labels);
  }
  return batch;
}

/**
 * Shared implementation: subclasses provide word pieces with ids; this class adds special tokens,
 * truncation and padding.
 */
export abstract class BaseTokenizer implements TextTokenizer {
  abstract readonly vocabSize: number;
  abstract readonly padId: number;
  abstract readonly unkId: number;
  abstract tokenToId(token: string): number | undefined;
  abstract idToToken(id: number): string | undefined;
  /**
   * Word pieces and their ids (no special tokens). With `limit`, an implementation may stop once it has
   * `limit` pieces: single texts are cut from the right anyway, and tokenizing a long document in full
   * only to keep its first 62 pieces made encoding e-mails minutes long.
   */
  protected abstract pieces(text: string, limit?: number): { tokens: string[]; ids: number[] };

  /** Layout of sentence pairs (default: the BERT layout derived from the single template). */
  protected readonly pairTemplate: PairTemplate;

  constructor(
    readonly maxLength: number,
    protected readonly template: SingleTemplate,
    pairTemplate?: PairTemplate,
  ) {
    this.pairTemplate = pairTemplate ?? bertPairTemplate(template);
    const specials = template.prefix.length + template.suffix.length;
    if (!Number.isInteger(maxLength) || maxLength <= specials) {
      throw new DistilleryError(
        'TOKENIZER_OPTIONS',
        `maxLength must be an integer above ${specials} (the special tokens), got ${maxLength}`,
      );
    }
  }

  /**
   * The first `limit` pieces of `text` (or all, when it has fewer) from a prefix of it: `piecesOf` runs on
   * prefixes cut at whitespace of growing length (16 characters per piece wanted, then ×4) until one yields
   * `limit + 4` pieces, else on the whole text. Exact for tokenizers whose normaliser works per character and
   * whose pre-tokeniser splits at whitespace (every complete word before the cut is split as in the full text);
   * the 4 spare pieces keep a normaliser rule that spans the cut away from the pieces kept.
   */
  protected firstPieces(
    text: string,
    limit: number,
    piecesOf: (t: string) => { tokens: string[]; ids: number[] },
  ): { tokens: string[]; ids: number[] } {
    for (let chars = (limit + 4) * 16; chars < text.length; chars *= 4) {
      const cut = text.slice(0, chars).search(/\s\S*$/);
      if (cut <= 0) continue;
      const p = piecesOf(text.slice(0, cut));
      if (p.tokens.length >= limit + 4) return { tokens: p.tokens.slice(0, limit), ids: p.ids.slice(0, limit) };
    }
    return piecesOf(text);
  }

  tokenize(text: string): string[] {
    return this.pieces(text).tokens;
  }

  /**
   * Encode one text, or a pair when `textB` is given (`encode(a, b, opts)` = `encodePair(a, b, opts)`).
   * A single text is truncated from the right to `maxLength`.
   */
  encode(text: string, opts?: { maxLength?: number }): Encoding;
  encode(textA: string, textB: string, opts?: PairEncodeOptions): Encoding;
  encode(text: string, b: string | { maxLength?: number } = {}, pairOpts: PairEncodeOptions = {}): Encoding {
    if (typeof b === 'string') return this.encodePair(text, b, pairOpts);
    const opts = b;
    const max = opts.maxLength ?? this.maxLength;
    const { prefix, suffix, typeId } = this.template;
    const room = max - prefix.length - suffix.length;
    if (room < 0)
      throw new DistilleryError('TOKENIZER_OPTIONS', `maxLength ${max} leaves no room for the special tokens`);
    const p = this.pieces(text, room);
    const n = Math.min(room, p.ids.length); // truncation from the right
    return {
      ids: [...prefix.map((s) => s.id), ...p.ids.slice(0, n), ...suffix.map((s) => s.id)],
      tokens: [...prefix.map((s) => s.token), ...p.tokens.slice(0, n), ...suffix.map((s) => s.token)],
      typeIds: [...prefix.map((s) => s.typeId), ...new Array<number>(n).fill(typeId), ...suffix.map((s) => s.typeId)],
    };
  }

  /** Encode a sentence pair through the pair template, truncating as `opts.truncation` says (default `longest_first`). */
  encodePair(textA: string, textB: string, opts: PairEncodeOptions = {}): Encoding {
    const max = opts.maxLength ?? this.maxLength;
    const a = this.pieces(textA);
    const b = this.pieces(textB);
    const [nA, nB] = truncatePair(a.ids.length, b.ids.length, max - specialCount(this.pairTemplate), opts.truncation);
    const out: Encoding = { ids: [], tokens: [], typeIds: [] };
    for (const item of this.pairTemplate) {
      if ('special' in item) {
        out.ids.push(item.special.id);
        out.tokens.push(item.special.token);
        out.typeIds.push(item.typeId);
      } else {
        const [p, n] = item.sequence === 'A' ? [a, nA] : [b, nB];
        out.ids.push(...p.ids.slice(0, n));
        out.tokens.push(...p.tokens.slice(0, n));
        for (let i = 0; i < n; i++) out.typeIds.push(item.typeId);
      }
    }
    return out;
  }

  /** Pieces of one pre-split word (overridden by byte-level BPE, which marks word starts with a space). */
  protected wordPieces(word: string): { tokens: string[]; ids: number[] } {
    return this.pieces(word);
  }

  /**
   * Encode pre-split words (`is_split_into_words`): each word tokenized alone, special tokens added, pieces cut
   * from the right to `maxLength`. `wordIds` maps each token to its word (null for special tokens).
   */
  encodeWords(words: readonly string[], opts: { maxLength?: number } = {}): Encoding & { wordIds: (number | null)[] } {
    const max = opts.maxLength ?? this.maxLength;
    const { prefix, suffix, typeId } = this.template;
    const room = max - prefix.length - suffix.length;
    const ids: number[] = [];
    const tokens: string[] = [];
    const wordIds: (number | null)[] = [];
    words.forEach((w, wi) => {
      const p = this.wordPieces(w);
      // transformers keeps a word that yields no piece out of the alignment; we do the same.
      for (let i = 0; i < p.ids.length; i++) {
        ids.push(p.ids[i]!);
        tokens.push(p.tokens[i]!);
        wordIds.push(wi);
      }
    });
    const n = Math.min(room, ids.length);
    const sp = (xs: typeof prefix) => xs.map(() => null);
    return {
      ids: [...prefix.map((s) => s.id), ...ids.slice(0, n), ...suffix.map((s) => s.id)],
      tokens: [...prefix.map((s) => s.token), ...tokens.slice(0, n), ...suffix.map((s) => s.token)],
      typeIds: [...prefix.map((s) => s.typeId), ...new Array<number>(n).fill(typeId), ...suffix.map((s) => s.typeId)],
      wordIds: [...sp(prefix), ...wordIds.slice(0, n), ...sp(suffix)],
    };
  }

  encodeBatch(texts: readonly string[], opts: EncodeBatchOptions = {}): EncodedBatch {
    const max = opts.maxLength ?? this.maxLength;
    const encs = texts.map((t) => this.encode(t, { maxLength: max }));
    return padEncodings(encs, this.padId, opts.padding ?? 'longest', max, opts.labels);
  }
}
