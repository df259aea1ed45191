/**
 * Turning examples into padded batches: encode once, then shuffle (seeded), optionally bucket by
 * length (less padding), and pad each batch to its longest row.
 * @packageDocumentation
 */
import { DistilleryError } from '@distillery/core';
import type { EncodedBatch, Encoding, Example } from './types.js';
import type { TextTokenizer } from './tokenizers/base.tokenizer.js';
import type { PairEncodeOptions } from './tokenizers/pair.js';
import type { PairExample } from './loaders/pairs.loader.js';
import { padEncodings } from './tokenizers/base.tokenizer.js';
import type { LabelMap } from './labels.js';
import { mulberry32, shuffled } from './rng.js';

/** An encoded example: ids etc. plus its class id (when labelled). */
export interface EncodedExample extends Encoding {
  label?: number;
  /** Regression target (STS-style tasks). */
  target?: number;
  /** Token-classification labels, one per token (−100 = ignored), instead of `label`. */
  tokenLabels?: number[];
  /** The example's text: the batch's per-example cache key (see `EncodedBatch.keys`). */
  key?: string;
}

/** Encode examples once (tokenisation is the slow part); labels mapped through `labels` when given. */
export function encodeExamples(
  examples: readonly Example[],
  tokenizer: TextTokenizer,
  labels?: LabelMap,
  opts: { maxLength?: number } = {},
): EncodedExample[] {
  return examples.map((ex, i) => {
    const enc: EncodedExample = tokenizer.encode(ex.text, opts);
    enc.key = ex.text;
    if (labels && ex.label !== undefined) enc.label = labels.id(ex.label, `example ${i}`);
    return enc;
  });
}

/**
 * Encode sentence pairs once (`[CLS] a [SEP] b [SEP]`, truncated by `opts.truncation`). Labels are mapped through
 * `labels`; with `regression: true` they are parsed as numbers into `target` instead.
 */
export function encodePairExamples(
  examples: readonly PairExample[],
  tokenizer: TextTokenizer,
  labels?: LabelMap,
  opts: PairEncodeOptions & { regression?: boolean } = {},
): EncodedExample[] {
  if (!tokenizer.encodePair)
    throw new DistilleryError('TOKENIZER_UNSUPPORTED', 'this tokenizer cannot encode sentence pairs', {
      hint: 'use loadTokenizer() (tokenizer.json or vocab.txt)',
    });
  return examples.map((ex, i) => {
    const enc: EncodedExample = tokenizer.encodePair!(ex.textA, ex.textB, opts);
    if (ex.label !== undefined) {
      if (opts.regression) enc.target = parseTarget(ex.label, `example ${i}`);
      else if (labels) enc.label = labels.id(ex.label, `example ${i}`);
    }
    return enc;
  });
}

/** A regression target from a label string; errors name the example. */
export function parseTarget(label: string, where: string): number {
  const v = Number(label);
  if (label.trim() === '' || !Number.isFinite(v))
    throw new DistilleryError('DATA_INVALID', `regression label must be a number, got ${JSON.stringify(label)}`, {
      where,
    });
  return v;
}

/** Options of {@link makeBatches} / {@link BatchIterator}. */
export interface BatchOptions {
  batchSize: number;
  /** Shuffle examples (default false). */
  shuffle?: boolean;
  /** Seed of the shuffle (default 42). Epoch e uses seed + e. */
  seed?: number;
  /**
   * Length bucketing: sort pools of `batchSize * bucketPools` examples by length before batching, then
   * shuffle the batch order. Less padding, still random. 0/undefined = off.
   */
  bucketPools?: number;
  /** Drop a last incomplete batch (default false). */
  dropLast?: boolean;
  padId?: number;
}

/**
 * Pad a group of encoded examples into one batch. Labels are attached when any example has one;
 * an unlabelled example's label is -1 (its hard-label loss is masked: it learns from the teacher only).
 */
export function collate(items: readonly EncodedExample[], padId = 0): EncodedBatch {
  const labelled = items.some((e) => e.label !== undefined);
  // Unlabelled rows (task.unlabelled) among labelled ones get label -1: the hard-label loss skips them.
  const batch = padEncodings(
    items,
    padId,
    'longest',
    undefined,
    labelled ? items.map((e) => e.label ?? -1) : undefined,
  );
  if (items.length > 0 && items.every((e) => e.target !== undefined))
    batch.targets = Float32Array.from(items, (e) => e.target!);
  if (items.length > 0 && items.every((e) => e.tokenLabels !== undefined)) {
    // Per-token labels, padded with −100 (ignored by the loss and the logits mask).
    const labels = new Int32Array(batch.batchSize * batch.seqLen).fill(-100);
    items.forEach((e, r) => labels.set(e.tokenLabels!, r * batch.seqLen));
    batch.labels = labels;
  }
  if (items.every((e) => e.key !== undefined)) batch.keys = items.map((e) => e.key!);
  return batch;
}

/**
 * The per-example cache identity of a batch (for `CachedTeacher`): each row's key (its text) plus its
 * token and segment ids, so a changed tokenizer, maxLength or text never reuses a stale entry.
 * Undefined for a batch without keys.
 */
export function cacheRowsOf(b: EncodedBatch): { keys: string[]; lengths: number[]; seqLen: number } | undefined {
  if (!b.keys) return undefined;
  const L = b.seqLen;
  const lengths: number[] = [];
  const keys = b.keys.map((k, r) => {
    let n = 0;
    for (let j = 0; j < L; j++) n += b.attentionMask[r * L + j]! ? 1 : 0;
    lengths.push(n);
    return `${k}\u0000${b.inputIds.subarray(r * L, r * L + n).join(',')}\u0000${b.tokenTypeIds.subarray(r * L, r * L + n).join(',')}`;
  });
  return { keys, lengths, seqLen: L };
}

/** Which examples (indices into `items`) form each batch of epoch `epoch` (shuffle, bucketing, dropLast applied). */
export function batchGroups(items: readonly { ids: readonly number[] }[], opts: BatchOptions, epoch = 0): number[][] {
  const { batchSize, shuffle = false, seed = 42, bucketPools = 0, dropLast = false } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new DistilleryError('CONFIG_INVALID', `batchSize must be a positive integer, got ${batchSize}`);
  let order = items.map((_, i) => i);
  if (shuffle) order = shuffled(order, seed + epoch);
  const groups: number[][] = [];
  if (bucketPools > 0) {
    const pool = batchSize * bucketPools;
    for (let p = 0; p < order.length; p += pool) {
      const chunk = order.slice(p, p + pool).sort((a, b) => items[a]!.ids.length - items[b]!.ids.length);
      for (let b = 0; b < chunk.length; b += batchSize) groups.push(chunk.slice(b, b + batchSize));
    }
    // Shuffle batch order so length does not correlate with training time.
    if (shuffle) {
      const rand = mulberry32((seed + epoch) ^ 0x9e3779b9);
      for (let i = groups.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [groups[i], groups[j]] = [groups[j]!, groups[i]!];
      }
    }
  } else {
    for (let b = 0; b < order.length; b += batchSize) groups.push(order.slice(b, b + batchSize));
  }
  return groups.filter((g) => !dropLast || g.length === batchSize);
}

/** Split encoded examples into padded batches for one epoch. */
export function makeBatches(items: readonly EncodedExample[], opts: BatchOptions, epoch = 0): EncodedBatch[] {
  return batchGroups(items, opts, epoch).map((g) =>
    collate(
      g.map((i) => items[i]!),
      opts.padId ?? 0,
    ),
  );
}

/**
 * One batch of the same examples, in the same order, tokenized for each side: when teacher and
 * student use different tokenizers, each side's adaptor reads its own batch.
 */
export interface PairedBatch {
  readonly teacher: EncodedBatch;
  readonly student: EncodedBatch;
}

/**
 * Paired batches of examples encoded twice (`teacherItems[i]` and `studentItems[i]` are example i).
 * Grouping (shuffle, length bucketing) follows the teacher's lengths; each side is padded on its own.
 */
export function makePairedBatches(
  teacherItems: readonly EncodedExample[],
  studentItems: readonly EncodedExample[],
  opts: BatchOptions,
  epoch = 0,
): PairedBatch[] {
  if (teacherItems.length !== studentItems.length)
    throw new DistilleryError(
      'DATALOADER',
      `paired batches need the same examples on both sides (${teacherItems.length} vs ${studentItems.length})`,
    );
  return batchGroups(teacherItems, opts, epoch).map((g) => ({
    teacher: collate(
      g.map((i) => teacherItems[i]!),
      opts.padId ?? 0,
    ),
    student: collate(
      g.map((i) => studentItems[i]!),
      opts.padId ?? 0,
    ),
  }));
}

/** Re-iterable paired batches over epochs (see {@link makePairedBatches}). */
export class PairedBatchIterator {
  private readonly inner: BatchIterator;
  constructor(
    readonly teacherItems: readonly EncodedExample[],
    readonly studentItems: readonly EncodedExample[],
    readonly opts: BatchOptions,
  ) {
    this.inner = new BatchIterator(teacherItems, opts);
  }
  get length(): number {
    return this.inner.length;
  }
  describe(): ReturnType<BatchIterator['describe']> & { paired: true } {
    return { ...this.inner.describe(), paired: true };
  }
  *epoch(e = 0): Generator<PairedBatch> {
    yield* makePairedBatches(this.teacherItems, this.studentItems, this.opts, e);
  }
}

/** Re-iterable batches over epochs: `for (const batch of it.epoch(e))`. */
export class BatchIterator {
  constructor(
    readonly items: readonly EncodedExample[],
    readonly opts: BatchOptions,
  ) {}

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.items.length / this.opts.batchSize;
    return this.opts.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /**
   * How epochs are made, for a checkpoint's data cursor: epoch e's order is a pure function of
   * these settings and e (shuffle seed = seed + e), so a resumed run rebuilds it exactly.
   */
  describe(): {
    kind: 'BatchIterator';
    examples: number;
    batchSize: number;
    shuffle: boolean;
    seed: number;
    bucketPools: number;
    dropLast: boolean;
    shuffleSeedOfEpoch: string;
  } {
    const o = this.opts;
    return {
      kind: 'BatchIterator',
      examples: this.items.length,
      batchSize: o.batchSize,
      shuffle: o.shuffle ?? false,
      seed: o.seed ?? 42,
      bucketPools: o.bucketPools ?? 0,
      dropLast: o.dropLast ?? false,
      shuffleSeedOfEpoch: 'seed + epoch',
    };
  }

  /** The batches of epoch `e` (deterministic for a given seed). */
  *epoch(e = 0): Generator<EncodedBatch> {
    yield* makeBatches(this.items, this.opts, e);
  }
}
