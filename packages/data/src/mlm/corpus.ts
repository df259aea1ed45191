/**
 * Plain-text corpora for masked-LM training (one text per line, or JSON Lines with a `text` field) and
 * their masked batches per epoch.
 * @packageDocumentation
 */
import { extname } from 'node:path';
import { DistilleryError } from '@distillery/core';
import type { EncodedBatch } from '../types.js';
import type { TextTokenizer } from '../tokenizers/base.tokenizer.js';
import { readTextFile } from '../loaders/text.loaders.js';
import { makeBatches, type EncodedExample } from '../batching.js';
import { maskingSeed, maskTokens, type MaskingOptions } from './masking.js';

/** Options of {@link loadTextCorpus}. */
export interface TextCorpusOptions {
  /** JSONL field holding the text. @default "text" */
  textField?: string;
  /** File encoding (WHATWG label). @default "utf-8" */
  encoding?: string;
  /** Keep at most this many texts (the first ones). */
  limit?: number;
}

/**
 * Read a corpus: `.jsonl` files hold one JSON object per line with a `text` field; any other file holds
 * one text per line. Blank lines are skipped; a bad JSONL line is an error naming `file:line`.
 */
export function loadTextCorpus(file: string, opts: TextCorpusOptions = {}): string[] {
  const field = opts.textField ?? 'text';
  const jsonl = extname(file).toLowerCase() === '.jsonl';
  const out: string[] = [];
  const lines = readTextFile(file, opts.encoding).split('\n');
  for (let i = 0; i < lines.length && (opts.limit === undefined || out.length < opts.limit); i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (!line.trim()) continue;
    if (!jsonl) {
      out.push(line);
      continue;
    }
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new DistilleryError('DATA_INVALID', `invalid JSON: ${(err as Error).message}`, {
        where: `${file}:${i + 1}`,
        hint: 'one JSON object per line, e.g. {"text": "..."}; or use a .txt file with one text per line',
      });
    }
    const text = (row as Record<string, unknown> | null)?.[field];
    if (typeof text !== 'string') {
      throw new DistilleryError('DATA_INVALID', `row has no string field "${field}"`, {
        where: `${file}:${i + 1}`,
        hint: `set task.data.textField to the field holding the text`,
      });
    }
    out.push(text);
  }
  if (!out.length) throw new DistilleryError('DATA_EMPTY', 'the corpus holds no texts', { where: file });
  return out;
}

/** Options of {@link MlmBatches}. */
export interface MlmBatchOptions {
  batchSize: number;
  /** Shuffle texts each epoch (seed + epoch). @default true */
  shuffle?: boolean;
  /** Run seed: shuffles and masks derive from it. @default 42 */
  seed?: number;
  /** Drop a last incomplete batch. @default false */
  dropLast?: boolean;
}

/**
 * Re-iterable masked batches: `epoch(e)` re-masks every batch with seeds from `(seed, e, index)`, so
 * masks are dynamic across epochs (as the HF collator) yet identical when a run is resumed.
 */
export class MlmBatches {
  private readonly items: EncodedExample[];
  constructor(
    texts: readonly string[],
    tok: TextTokenizer,
    private readonly masking: Omit<MaskingOptions, 'seed'>,
    private readonly opts: MlmBatchOptions & { maxLength?: number },
  ) {
    this.items = texts.map((t) => tok.encode(t, { maxLength: opts.maxLength }));
    this.padId = tok.padId;
  }
  private readonly padId: number;

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.items.length / this.opts.batchSize;
    return this.opts.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** How epochs are made (for a checkpoint's data cursor): masks are a pure function of (seed, epoch, index). */
  describe(): {
    kind: 'MlmBatches';
    examples: number;
    batchSize: number;
    seed: number;
    mlmProbability: number;
    wholeWord: boolean;
  } {
    return {
      kind: 'MlmBatches',
      examples: this.items.length,
      batchSize: this.opts.batchSize,
      seed: this.opts.seed ?? 42,
      mlmProbability: this.masking.mlmProbability ?? 0.15,
      wholeWord: !!this.masking.isContinuation,
    };
  }

  /** The masked batches of epoch `e`. */
  epoch(e: number): EncodedBatch[] {
    const seed = this.opts.seed ?? 42;
    const batches = makeBatches(
      this.items,
      {
        batchSize: this.opts.batchSize,
        shuffle: this.opts.shuffle ?? true,
        seed,
        dropLast: this.opts.dropLast,
        padId: this.padId,
      },
      e,
    );
    return batches.map((b, i) => maskTokens(b, { ...this.masking, seed: maskingSeed(seed, e, i) }));
  }
}
