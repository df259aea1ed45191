/**
 * Token-classification cross-entropy, as transformers: mean over positions whose label is >= 0
 * (−100 marks sub-word continuations, special tokens and padding).
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';

/** Mean CE of logits [B, L, C] against `batch.labels` [B·L] (negative = ignored). */
export function tokenClassificationLoss(batch: EncodedBatch, logits: tf.Tensor, numLabels: number): tf.Scalar {
  const n = batch.batchSize * batch.seqLen;
  const raw = batch.labels!;
  if (raw.length !== n)
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `token labels need batchSize*seqLen = ${n} entries, got ${raw.length}`,
      { where: 'forward(batch).labels' },
    );
  const labels = tf.tensor1d(raw, 'int32');
  const valid = tf.cast(tf.greaterEqual(labels, 0), 'float32');
  const logp = tf.logSoftmax(tf.reshape(logits, [n, numLabels]));
  const picked = tf.sum(tf.mul(tf.oneHot(tf.maximum(labels, tf.scalar(0, 'int32')), numLabels), logp), 1);
  return tf.div<tf.Scalar>(tf.neg(tf.sum(tf.mul(picked, valid))), tf.maximum(tf.sum(valid), 1));
}
