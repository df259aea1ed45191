/**
 * Dynamic masking for masked-language-model training, as transformers' `DataCollatorForLanguageModeling`
 * (and, optionally, `DataCollatorForWholeWordMask`): of the maskable tokens, 15 % are chosen; of those
 * 80 % become `[MASK]`, 10 % a random token, 10 % stay unchanged. Special tokens and padding are never
 * chosen. Labels are the original ids at chosen positions and -100 elsewhere.
 *
 * Why a seed per batch (not a stream): the masks of batch n depend only on `(seed, epoch, index)`, so a
 * run resumed from a checkpoint masks its remaining batches exactly as the uninterrupted run did.
 * @packageDocumentation
 */
import { DistilleryError, mulberry32 } from '@distillery/core';
import type { EncodedBatch } from '../types.js';
import type { TextTokenizer } from '../tokenizers/base.tokenizer.js';

/** The ignore index of the MLM labels (PyTorch's CrossEntropyLoss default). */
export const MLM_IGNORE = -100;

/** Options of {@link maskTokens}. */
export interface MaskingOptions {
  /** Vocabulary size (random replacements are drawn from `0..vocabSize-1`, specials excluded). */
  vocabSize: number;
  /** Id of `[MASK]`. */
  maskId: number;
  /** Ids never chosen (CLS, SEP, PAD, UNK, MASK …); padding (attention 0) is never chosen either. */
  specialIds: ReadonlySet<number>;
  /**
   * Share of maskable tokens chosen.
   * @default 0.15
   */
  mlmProbability?: number;
  /**
   * Share of chosen tokens replaced by `[MASK]`; half of the rest get a random token, half stay.
   * @default 0.8
   */
  maskReplaceProbability?: number;
  /** Whole-word masking: id → true for a word continuation (WordPiece `##…`); a word's pieces are chosen together. */
  isContinuation?: (id: number) => boolean;
  /** Seed of this batch's draws (derive it with {@link maskingSeed}). */
  seed: number;
}

/** A stable seed for the masks of one batch of a run: same run seed, epoch and batch index, same masks. */
export function maskingSeed(runSeed: number, epoch: number, batchIndex: number): number {
  let h = 0x9e3779b9 ^ runSeed;
  for (const v of [epoch, batchIndex]) h = Math.imul(h ^ v, 0x85ebca6b) ^ (h >>> 13);
  return h >>> 0;
}

/**
 * Mask a batch: returns a new batch whose `inputIds` are corrupted and whose `labels` ([B·L]) hold the
 * original ids at chosen positions, -100 elsewhere. The input batch is not modified.
 */
export function maskTokens(batch: EncodedBatch, opts: MaskingOptions): EncodedBatch {
  const p = opts.mlmProbability ?? 0.15;
  const pMask = opts.maskReplaceProbability ?? 0.8;
  if (!(p > 0 && p < 1))
    throw new DistilleryError('CONFIG_INVALID', `mlmProbability must be in (0, 1), got ${p}`, {
      where: 'task.data.mlmProbability',
      hint: 'the standard value is 0.15',
    });
  if (!(pMask >= 0 && pMask <= 1))
    throw new DistilleryError('CONFIG_INVALID', `maskReplaceProbability must be in [0, 1], got ${pMask}`, {
      where: 'task.data.maskReplaceProbability',
    });
  if (opts.maskId < 0 || opts.maskId >= opts.vocabSize)
    throw new DistilleryError('TOKENIZER_OPTIONS', `mask id ${opts.maskId} is outside the vocabulary`, {
      where: 'maskTokens',
      hint: 'the tokenizer needs a [MASK] token',
    });
  const rand = mulberry32(opts.seed);
  const { batchSize: b, seqLen: l } = batch;
  const ids = Int32Array.from(batch.inputIds);
  const labels = new Int32Array(b * l).fill(MLM_IGNORE);
  const maskable = (i: number) => batch.attentionMask[i] === 1 && !opts.specialIds.has(batch.inputIds[i]!);
  const chosen = new Uint8Array(b * l);
  for (let r = 0; r < b; r++) {
    for (let j = 0; j < l; j++) {
      const i = r * l + j;
      if (!maskable(i)) continue;
      // Whole words: a continuation piece follows the choice made for its word's first piece.
      if (opts.isContinuation?.(batch.inputIds[i]!) && j > 0 && maskable(i - 1)) {
        chosen[i] = chosen[i - 1]!;
        continue;
      }
      chosen[i] = rand() < p ? 1 : 0;
    }
  }
  // A batch with nothing chosen would give an empty KD/MLM term (NaN mean, no gradient): choose one maskable
  // token (a deviation from the HF collator that only matters for tiny batches).
  if (!chosen.some((c) => c === 1)) {
    const cont = (i: number) => !!opts.isContinuation?.(batch.inputIds[i]!) && i % l > 0 && maskable(i - 1);
    // Whole words: pick a word start and take its continuation pieces with it.
    const candidates = Array.from({ length: b * l }, (_, i) => i).filter((i) => maskable(i) && !cont(i));
    if (candidates.length) {
      let i = candidates[Math.floor(rand() * candidates.length)]!;
      chosen[i] = 1;
      while (i + 1 < b * l && (i + 1) % l > 0 && maskable(i + 1) && cont(i + 1)) chosen[++i] = 1;
    }
  }
  // Random replacements avoid special tokens (HF draws from the whole vocabulary; excluding specials keeps [PAD]/[CLS] out of sentences).
  const drawRandom = (): number => {
    for (;;) {
      const t = Math.floor(rand() * opts.vocabSize);
      if (!opts.specialIds.has(t)) return t;
    }
  };
  for (let i = 0; i < b * l; i++) {
    if (!chosen[i]) continue;
    labels[i] = batch.inputIds[i]!;
    const u = rand();
    if (u < pMask) ids[i] = opts.maskId;
    else if (u < pMask + (1 - pMask) / 2) ids[i] = drawRandom();
  }
  return { ...batch, inputIds: ids, labels };
}

const SPECIAL_NAMES = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<s>', '</s>', '<pad>', '<unk>', '<mask>'];

/**
 * Masking options from a tokenizer: its `[MASK]` (or `<mask>`) id, its special ids, and (with
 * `wholeWord`) WordPiece's `##` continuation test.
 */
export function maskingFromTokenizer(
  tok: TextTokenizer,
  opts: { wholeWord?: boolean; mlmProbability?: number } = {},
): Omit<MaskingOptions, 'seed'> {
  const maskId = tok.tokenToId('[MASK]') ?? tok.tokenToId('<mask>');
  if (maskId === undefined) {
    throw new DistilleryError('TOKENIZER_OPTIONS', 'the tokenizer has no [MASK] (or <mask>) token', {
      where: 'tokenizer',
      hint: 'masked-LM data needs a vocabulary with a mask token',
    });
  }
  const specialIds = new Set<number>([tok.padId]);
  for (const n of SPECIAL_NAMES) {
    const id = tok.tokenToId(n);
    if (id !== undefined) specialIds.add(id);
  }
  const out: Omit<MaskingOptions, 'seed'> = {
    vocabSize: tok.vocabSize,
    maskId,
    specialIds,
    mlmProbability: opts.mlmProbability,
  };
  if (opts.wholeWord) {
    const cont = new Uint8Array(tok.vocabSize);
    for (let id = 0; id < tok.vocabSize; id++) if (tok.idToToken(id)?.startsWith('##')) cont[id] = 1;
    out.isContinuation = (id) => cont[id] === 1;
  }
  return out;
}
