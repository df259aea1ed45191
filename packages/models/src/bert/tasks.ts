/**
 * Task-specific pieces shared by the encoder families: regression heads (`problem_type: "regression"`)
 * and RoBERTa's padding-offset position ids.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';

/**
 * Whether a sequence head regresses instead of classifying. As transformers: `problem_type: "regression"`,
 * or no `problem_type` and a single label.
 */
export function isRegression(c: { numLabels: number; extra: Record<string, unknown> }): boolean {
  const pt = c.extra.problem_type;
  return pt === 'regression' || ((pt === undefined || pt === null) && c.numLabels === 1);
}

/**
 * Mean squared error of the logits against `batch.targets` (or the integer labels as numbers): HF's
 * `MSELoss()(logits.squeeze(), labels.squeeze())`. Undefined when the batch has no targets.
 */
export function regressionLoss(batch: EncodedBatch, logits: tf.Tensor): tf.Scalar | undefined {
  const raw = batch.targets ?? (batch.labels ? Float32Array.from(batch.labels) : undefined);
  if (!raw) return undefined;
  if (raw.length !== logits.size) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `regression targets have ${raw.length} values for logits of shape [${logits.shape.join(',')}]`,
      { where: 'forward(batch).targets' },
    );
  }
  return tf.losses.meanSquaredError<tf.Tensor, tf.Scalar>(tf.tensor(raw, logits.shape, 'float32'), logits);
}

/**
 * The loss of a sequence head, shared by every encoder family: MSE for regression heads, else softmax
 * cross-entropy against `batch.labels`. Undefined when the batch carries no labels or targets.
 */
export function sequenceLoss(
  c: { numLabels: number; extra: Record<string, unknown> },
  batch: EncodedBatch,
  logits: tf.Tensor,
): tf.Scalar | undefined {
  if (isRegression(c)) return regressionLoss(batch, logits);
  if (!batch.labels) return undefined;
  if (batch.labels.length !== batch.batchSize)
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `labels has ${batch.labels.length} entries for ${batch.batchSize} rows`,
      { where: 'forward(batch).labels' },
    );
  return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(
    tf.oneHot(tf.tensor1d(batch.labels, 'int32'), c.numLabels),
    logits,
  );
}

/**
 * transformers' `create_position_ids_from_input_ids`: real tokens get `padding_idx + 1, padding_idx + 2, …`
 * (counting only non-pad tokens), pad tokens get `padding_idx`. Decided by the ids, not the attention mask.
 */
export function robertaPositionIds(
  inputIds: Int32Array,
  batchSize: number,
  seqLen: number,
  paddingIdx: number,
): Int32Array {
  const out = new Int32Array(batchSize * seqLen);
  for (let r = 0; r < batchSize; r++) {
    let count = 0;
    for (let j = 0; j < seqLen; j++) {
      const i = r * seqLen + j;
      if (inputIds[i] !== paddingIdx) out[i] = paddingIdx + ++count;
      else out[i] = paddingIdx;
    }
  }
  return out;
}
