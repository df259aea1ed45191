/**
 * A self-contained BERT WordPiece tokenizer (BertNormalizer + BertPreTokenizer + WordPiece),
 * built from `vocab.txt` or the `model.vocab` of a `tokenizer.json`.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { DistilleryError } from '@distillery/core';
import { BaseTokenizer } from './base.tokenizer.js';
import { bertNormalize, bertPreTokenize, type BertNormalizerOptions } from './bert.normalizer.js';

/** Options of {@link WordPieceTokenizer}. */
export interface WordPieceOptions extends BertNormalizerOptions {
  /** Maximum total length incl. `[CLS]`/`[SEP]` (default 512). */
  maxLength?: number;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
  /** Continuation prefix (default `##`). */
  continuingSubwordPrefix?: string;
  /** Words longer than this (in characters) become `[UNK]` (default 100). */
  maxInputCharsPerWord?: number;
}

/** BERT WordPiece tokenizer implemented in plain TypeScript. */
export class WordPieceTokenizer extends BaseTokenizer {
  readonly vocab: readonly string[];
  readonly vocabSize: number;
  readonly padId: number;
  readonly unkId: number;
  readonly options: Required<WordPieceOptions>;
  private readonly ids: Map<string, number>;

  /** @param vocab tokens by id (line i of `vocab.txt` = id i). */
  constructor(vocab: readonly string[], opts: WordPieceOptions = {}) {
    const o: Required<WordPieceOptions> = {
      cleanText: true,
      handleChineseChars: true,
      stripAccents: true,
      lowercase: true,
      maxLength: 512,
      unkToken: '[UNK]',
      clsToken: '[CLS]',
      sepToken: '[SEP]',
      padToken: '[PAD]',
      maskToken: '[MASK]',
      continuingSubwordPrefix: '##',
      maxInputCharsPerWord: 100,
      ...opts,
    };
    const ids = new Map<string, number>();
    vocab.forEach((t, i) => {
      if (!ids.has(t)) ids.set(t, i);
    });
    const need = (tok: string): number => {
      const id = ids.get(tok);
      if (id === undefined) {
        throw new DistilleryError(
          'TOKENIZER_VOCAB',
          `special token "${tok}" is not in the vocabulary (${vocab.length} tokens)`,
          {
            hint: 'vocab.txt must contain [PAD], [UNK], [CLS], [SEP] (or pass their names in the options)',
          },
        );
      }
      return id;
    };
    const cls = need(o.clsToken);
    const sep = need(o.sepToken);
    super(o.maxLength, {
      prefix: [{ id: cls, token: o.clsToken, typeId: 0 }],
      suffix: [{ id: sep, token: o.sepToken, typeId: 0 }],
      typeId: 0,
    });
    this.vocab = vocab;
    this.vocabSize = vocab.length;
    this.ids = ids;
    this.options = o;
    this.padId = need(o.padToken);
    this.unkId = need(o.unkToken);
  }

  /** Load `vocab.txt` (one token per line; line number = id). */
  static fromVocabFile(path: string, opts: WordPieceOptions = {}): WordPieceTokenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new DistilleryError('IO_READ_FAILED', `cannot read vocabulary: ${(err as Error).message}`, {
        where: path,
        cause: err,
      });
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return new WordPieceTokenizer(
      lines.map((l) => l.replace(/\r$/, '')),
      opts,
    );
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.vocab[id];
  }

  /** Normalised, pre-tokenised words (before WordPiece). */
  words(text: string): string[] {
    return bertPreTokenize(bertNormalize(text, this.options));
  }

  protected pieces(text: string, limit = Infinity): { tokens: string[]; ids: number[] } {
    // BERT normalisation is per character and pre-tokenisation splits at whitespace: a prefix is exact.
    return Number.isFinite(limit)
      ? this.firstPieces(text, limit, (t) => this.piecesOf(t, limit + 4))
      : this.piecesOf(text, limit);
  }

  private piecesOf(text: string, limit: number): { tokens: string[]; ids: number[] } {
    const tokens: string[] = [];
    const ids: number[] = [];
    for (const word of this.words(text)) {
      for (const piece of this.wordPiece(word)) {
        tokens.push(piece);
        ids.push(this.ids.get(piece) ?? this.unkId);
      }
      if (tokens.length >= limit) break; // the rest would be truncated away
    }
    return { tokens, ids };
  }

  /** Greedy longest-match-first split of one word; the whole word is `[UNK]` if any position has no match. */
  wordPiece(word: string): string[] {
    const chars = Array.from(word); // code points, not UTF-16 units
    const { unkToken, maxInputCharsPerWord, continuingSubwordPrefix: pre } = this.options;
    if (chars.length > maxInputCharsPerWord) return [unkToken];
    const out: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | undefined;
      while (start < end) {
        const sub = (start > 0 ? pre : '') + chars.slice(start, end).join('');
        if (this.ids.has(sub)) {
          found = sub;
          break;
        }
        end--;
      }
      if (found === undefined) return [unkToken];
      out.push(found);
      start = end;
    }
    return out;
  }
}
