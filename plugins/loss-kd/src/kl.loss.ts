import * as tf from '@tensorflow/tfjs-core';
import type { KdLossInput, KdLossPlugin } from '@distillery/core';
import { VERSION, scaleLogits } from './common.js';

/**
 * KL divergence KL(p_T ‖ p_S) scaled by T² (Hinton et al. 2015; DistilBERT's
 * `KLDivLoss(reduction="batchmean") · T²`).
 *
 *   p = softmax(z_T / T),  q = softmax(z_S / T)
 *   loss = (1 / rows) · Σ_rows T_row² · Σ_c p_c · (log p_c − log q_c)
 *
 * - T is a number or a per-row tensor (then each row is scaled by its own T²).
 * - Reduction: "batchmean": sum over classes, mean over rows (B rows, or B·L / N rows).
 * - The T² factor keeps gradient magnitudes comparable across temperatures.
 * - Masking: none here (select real rows first). A (0, C) input gives 0.
 * - log p is computed with log_softmax, so p_c = 0 never produces NaN.
 */
export function kdKl(input: KdLossInput): tf.Scalar {
  return tf.tidy(() => {
    const { zS, zT, T, rows } = scaleLogits(input, 'kd kl');
    if (rows === 0) return tf.scalar(0);
    const logP = tf.logSoftmax(zT, -1);
    const logQ = tf.logSoftmax(zS, -1);
    const perRow = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), -1, true); // (…, 1)
    const scaled = typeof T === 'number' ? tf.mul(perRow, T * T) : tf.mul(perRow, tf.square(T));
    return tf.div<tf.Scalar>(tf.sum(scaled), rows);
  });
}

/** Factory of the `kl` kd-loss plugin (see {@link kdKl}). */
export function klLoss(): KdLossPlugin {
  return {
    meta: {
      name: 'kl',
      version: VERSION,
      kind: 'kd-loss',
      description: 'KL(p_T‖p_S)·T², batchmean over rows (Hinton/DistilBERT)',
    },
    compute: (input) => kdKl(input),
  };
}
