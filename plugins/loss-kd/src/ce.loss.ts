import * as tf from '@tensorflow/tfjs-core';
import type { KdLossInput, KdLossPlugin } from '@distillery/core';
import { VERSION, scaleLogits } from './common.js';

/**
 * Soft cross-entropy between teacher and student distributions (TextBrewer `kd_ce_loss`).
 *
 * Formula, with logits of shape (…, C) and temperature T (a number or a per-row tensor of the
 * logits' shape minus the class axis):
 *
 *   p = softmax(z_T / T),  log q = log_softmax(z_S / T)  (over the class axis)
 *   loss = mean over rows of ( − Σ_c p_c · log q_c )
 *
 * - Reduction: mean over every row (B rows for 2-D, B·L rows for 3-D logits; padding rows count
 *   unless they were removed beforehand with `selectLogitsWithMask`).
 * - **No T² factor** (TextBrewer semantics; use `kl` for the Hinton/DistilBERT T²-scaled form).
 * - Masking: none here; the distiller selects real rows first. Zero rows (a (0, C) input after
 *   an all-zero mask) give 0, not NaN.
 * - Gradients flow to both logits (the teacher side is normally constant).
 */
export function kdCe(input: KdLossInput): tf.Scalar {
  return tf.tidy(() => {
    const { zS, zT, rows } = scaleLogits(input, 'kd ce');
    if (rows === 0) return tf.scalar(0);
    const p = tf.softmax(zT, -1);
    const logQ = tf.logSoftmax(zS, -1);
    return tf.neg(tf.mean(tf.sum(tf.mul(p, logQ), -1))) as tf.Scalar;
  });
}

/** Factory of the `ce` kd-loss plugin (see {@link kdCe}). */
export function ceLoss(): KdLossPlugin {
  return {
    meta: {
      name: 'ce',
      version: VERSION,
      kind: 'kd-loss',
      description: 'soft cross-entropy −Σ softmax(z_T/T)·log_softmax(z_S/T), mean over rows, no T²',
    },
    compute: (input) => kdCe(input),
  };
}
