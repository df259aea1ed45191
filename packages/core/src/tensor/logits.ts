/**
 * Logits utilities used by the distillers (TextBrewer `probability_shift_` and
 * `select_logits_with_mask`). Both return new tensors; inputs are never modified or disposed.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '../util/errors.js';
import { assertFloat, shapeToString } from './checks.js';

/**
 * Probability shift (TextBrewer `probability_shift_`, but out of place): in every row of the
 * teacher logits, the value at the teacher's arg-max class is swapped with the value at the
 * label's class, so the true class always gets the teacher's highest logit.
 *
 * - 2-D: `logitsT` (B, C), `labels` (B,).
 * - 3-D: `logitsT` (B, L, C), `labels` (B, L).
 * - A label < 0 (e.g. the -100 ignore index) leaves its row unchanged, in both forms.
 *   (TextBrewer only defines this for 3-D; its 2-D form would index from the end.)
 * - Ties in the arg-max resolve to the first maximal class, as in PyTorch.
 *
 * The swap is done with `where` (no arithmetic), so values are moved bit-exactly.
 *
 * @param logitsT float32 teacher logits, rank 2 or 3.
 * @param labels integer (or integer-valued) labels of shape `logitsT.shape` minus the class axis.
 * @returns a new tensor of `logitsT`'s shape.
 * @throws DistilleryError `SHAPE_MISMATCH` when the labels do not fit the logits, `INVALID_INPUT`
 *   when a label is ≥ the number of classes.
 */
export function probabilityShift(logitsT: tf.Tensor, labels: tf.Tensor, where?: string): tf.Tensor {
  const ctx = { op: 'probabilityShift', where };
  assertFloat(logitsT, 'logitsT', ctx);
  if (logitsT.rank !== 2 && logitsT.rank !== 3) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `probabilityShift: logitsT must be (B, C) or (B, L, C), got ${shapeToString(logitsT.shape)}`,
      { where },
    );
  }
  const rowShape = logitsT.shape.slice(0, -1);
  if (!tf.util.arraysEqual(labels.shape, rowShape)) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `probabilityShift: labels have shape ${shapeToString(labels.shape)} but logitsT ${shapeToString(logitsT.shape)} needs labels of shape ${shapeToString(rowShape)}`,
      { where },
    );
  }
  const C = logitsT.shape[logitsT.rank - 1]!;
  // Labels are tiny; reading them once lets us reject out-of-range classes instead of silently writing 0.
  const lab = labels.dataSync();
  for (let i = 0; i < lab.length; i++) {
    const v = Number(lab[i]);
    if (!Number.isInteger(v) || v >= C) {
      throw new DistilleryError(
        'INVALID_INPUT',
        `probabilityShift: label ${v} at row ${i} is not a class index in [0, ${C})`,
        {
          where,
          hint: 'labels must be class indices; use a negative label (e.g. -100) to leave a row unchanged',
        },
      );
    }
  }
  return tf.tidy(() => {
    const x = tf.reshape(logitsT, [-1, C]);
    const lab32 = tf.reshape(tf.cast(labels, 'int32'), [-1]);
    const argmax = tf.argMax<tf.Tensor1D>(x, -1);
    // label < 0 → use the arg-max itself, which makes the swap a no-op.
    const target = tf.where(tf.less(lab32, 0), argmax, lab32) as tf.Tensor1D;
    const isMax = tf.cast(tf.oneHot(argmax, C), 'bool');
    const isLab = tf.cast(tf.oneHot(target, C), 'bool');
    const zeros = tf.zerosLike(x);
    const vMax = tf.sum(tf.where(isMax, x, zeros), -1, true);
    const vLab = tf.sum(tf.where(isLab, x, zeros), -1, true);
    const out = tf.where(isMax, tf.broadcastTo(vLab, x.shape), tf.where(isLab, tf.broadcastTo(vMax, x.shape), x));
    return tf.reshape(out, logitsT.shape);
  });
}

/**
 * Keep only the rows of real tokens (TextBrewer `select_logits_with_mask`).
 *
 * - A 3-D logits tensor (B, L, C) keeps the rows at positions where its mask is non-zero, in
 *   row-major order, giving a (n_kept, C) tensor (gathered, so gradients flow back).
 * - A 2-D logits tensor passes through unchanged (the same tensor object is returned).
 * - `masksList` holds one (B, L) mask per logits tensor, or a single mask used for **every**
 *   logits tensor. (This fixes TextBrewer's crash for one mask with two or more 3-D heads.)
 * - An all-zero mask gives a (0, C) tensor; the KD losses define their value on it as 0.
 *
 * @returns a new list; 3-D entries are new tensors owned by the caller.
 * @throws DistilleryError `SHAPE_MISMATCH` when a mask's shape is not the logits' (B, L), or
 *   `INVALID_INPUT` when the number of masks is neither 1 nor the number of logits.
 */
export function selectLogitsWithMask(
  logitsList: readonly tf.Tensor[],
  masksList: readonly tf.Tensor[],
  where?: string,
): tf.Tensor[] {
  if (masksList.length !== 1 && masksList.length !== logitsList.length) {
    throw new DistilleryError(
      'INVALID_INPUT',
      `selectLogitsWithMask: got ${logitsList.length} logits tensors but ${masksList.length} masks`,
      { where, hint: 'give one mask per logits head, or a single mask for all of them' },
    );
  }
  return logitsList.map((logits, i) => {
    if (logits.rank !== 3) return logits;
    const mask = masksList.length === 1 ? masksList[0]! : masksList[i]!;
    const [B, L, C] = logits.shape as [number, number, number];
    if (!tf.util.arraysEqual(mask.shape, [B, L])) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `selectLogitsWithMask: logits[${i}] has shape ${shapeToString(logits.shape)} but its mask has shape ${shapeToString(mask.shape)} (expected ${shapeToString([B, L])})`,
        { where },
      );
    }
    // The kept count decides the output shape, so the mask must be read on the host.
    const m = mask.dataSync();
    const idx: number[] = [];
    for (let k = 0; k < m.length; k++) if (Number(m[k]) !== 0) idx.push(k);
    return tf.tidy(() => tf.gather(tf.reshape(logits, [B * L, C]), tf.tensor1d(idx, 'int32')));
  });
}
