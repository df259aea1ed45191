/**
 * The masked-LM head shared by the families: dense → activation → LayerNorm → decoder tied to the word
 * embeddings (plus its own bias). BERT: `cls.predictions.*`; RoBERTa: `lm_head.*`; DistilBERT:
 * `vocab_transform` / `vocab_layer_norm` / `vocab_projector`.
 *
 * Why gather first: vocabulary-sized logits are the cost of MLM. With labels (−100 = not masked) the head
 * runs on the masked rows only, so logits are `[M, V]` (M = masked tokens in the batch) instead of
 * `[B, L, V]`: about 15 % of the memory and time of the decoder matmul, in the forward and backward pass.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';
import type { HiddenAct } from './bert.config.js';
import type { ParamStore } from './params.js';
import { activation, layerNorm, linear } from './layers.js';

/** HF names of one family's MLM head. */
export interface MlmHeadNames {
  /** Linear transform (`.weight` [D, D], `.bias` [D]). */
  dense: string;
  /** LayerNorm after the activation. */
  layerNorm: string;
  /** Output bias [V]. */
  bias: string;
  /** The tied decoder weight: the word embeddings [V, D]. */
  embeddings: string;
  /** Decoder names that are only a tied copy (skipped on load, not saved). */
  tiedCopies: readonly string[];
}

export const MLM_HEAD_NAMES: Record<'bert' | 'roberta' | 'distilbert', MlmHeadNames> = {
  bert: {
    dense: 'cls.predictions.transform.dense',
    layerNorm: 'cls.predictions.transform.LayerNorm',
    bias: 'cls.predictions.bias',
    embeddings: 'bert.embeddings.word_embeddings.weight',
    tiedCopies: ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'],
  },
  roberta: {
    dense: 'lm_head.dense',
    layerNorm: 'lm_head.layer_norm',
    bias: 'lm_head.bias',
    embeddings: 'roberta.embeddings.word_embeddings.weight',
    tiedCopies: ['lm_head.decoder.weight', 'lm_head.decoder.bias'],
  },
  distilbert: {
    dense: 'vocab_transform',
    layerNorm: 'vocab_layer_norm',
    bias: 'vocab_projector.bias',
    embeddings: 'distilbert.embeddings.word_embeddings.weight',
    tiedCopies: ['vocab_projector.weight'],
  },
};

/** The head's own weights (the decoder weight is the word embeddings, listed with the encoder). */
export function mlmWeightShapes(n: MlmHeadNames, hiddenSize: number, vocabSize: number): [string, number[]][] {
  return [
    [`${n.dense}.weight`, [hiddenSize, hiddenSize]],
    [`${n.dense}.bias`, [hiddenSize]],
    [`${n.layerNorm}.weight`, [hiddenSize]],
    [`${n.layerNorm}.bias`, [hiddenSize]],
    [n.bias, [vocabSize]],
  ];
}

/** Flat indices (row·L + position) of the masked tokens (labels ≥ 0), or undefined for a batch without labels. */
export function maskedRows(batch: EncodedBatch): Int32Array | undefined {
  const labels = batch.labels;
  if (!labels) return undefined;
  const n = batch.batchSize * batch.seqLen;
  if (labels.length !== n) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `masked-LM labels need batchSize*seqLen = ${n} entries (−100 where not masked), got ${labels.length}`,
      { where: 'forward(batch).labels', hint: 'mask batches with maskTokens() / MlmBatches from @distillery/data' },
    );
  }
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (labels[i]! >= 0) rows.push(i);
  return Int32Array.from(rows);
}

/** Labels at the masked rows, [M]. */
export function maskedLabels(batch: EncodedBatch, rows: Int32Array): Int32Array {
  return Int32Array.from(rows, (i) => batch.labels![i]!);
}

/**
 * Logits of the head: `[M, V]` over the given rows of `seq` ([B, L, D]), or `[B, L, V]` when `rows` is
 * undefined.
 */
export function mlmLogits(
  store: ParamStore,
  n: MlmHeadNames,
  act: HiddenAct,
  eps: number,
  seq: tf.Tensor3D,
  rows?: Int32Array,
): tf.Tensor {
  const [b, l, d] = seq.shape;
  const h0 = rows ? tf.gather(tf.reshape(seq, [b * l, d]), tf.tensor1d(rows, 'int32')) : seq;
  const h = layerNorm(store, n.layerNorm, activation(act, linear(store, n.dense, h0)), eps);
  const h2 = tf.reshape<tf.Rank.R2>(h, [-1, d]);
  // wasm multiplies ~10× slower with a transposed operand: use the store's transposed copy there (as `linear`).
  const dec =
    tf.getBackend() === 'wasm'
      ? tf.matMul(h2, store.transposed(n.embeddings))
      : tf.matMul(h2, store.get(n.embeddings), false, true);
  const logits = tf.add(dec, store.get(n.bias));
  return rows ? logits : tf.reshape(logits, [b, l, logits.shape[1]!]);
}

/** Mean cross-entropy of `[M, V]` logits against the masked labels (0 when nothing is masked). */
export function mlmLoss(logits: tf.Tensor, labels: Int32Array): tf.Scalar {
  const v = logits.shape[logits.shape.length - 1]!;
  if (labels.length === 0) return tf.scalar(0);
  const logp = tf.logSoftmax(tf.reshape(logits, [-1, v]));
  const picked = tf.sum(tf.mul(tf.oneHot(tf.tensor1d(labels, 'int32'), v), logp), 1);
  return tf.neg(tf.mean(picked)) as tf.Scalar;
}
