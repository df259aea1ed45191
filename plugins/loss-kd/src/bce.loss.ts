import * as tf from '@tensorflow/tfjs-core';
import type { KdLossInput, KdLossPlugin } from '@distillery/core';
import { VERSION, scaleLogits } from './common.js';

/**
 * Multi-label distillation: binary cross-entropy of the student's per-class sigmoids against
 * the teacher's per-class sigmoids.
 *
 *   t = sigmoid(z_T / T),  x = z_S / T
 *   loss = mean over all elements of [ max(x, 0) − x·t + log(1 + e^(−|x|)) ]
 *
 * (the numerically stable form of −t·log σ(x) − (1−t)·log(1−σ(x))).
 *
 * - T is a number or a per-row tensor. No T² factor.
 * - Reduction: mean over every element (rows × classes), like `BCEWithLogitsLoss`.
 * - Masking: none here (select real rows first). A (0, C) input gives 0.
 */
export function kdBce(input: KdLossInput): tf.Scalar {
  return tf.tidy(() => {
    const { zS, zT, rows } = scaleLogits(input, 'kd bce');
    if (rows === 0) return tf.scalar(0);
    const t = tf.sigmoid(zT);
    const elem = tf.add(tf.sub(tf.relu(zS), tf.mul(zS, t)), tf.log1p(tf.exp(tf.neg(tf.abs(zS)))));
    return tf.mean<tf.Scalar>(elem);
  });
}

/** Factory of the `bce` kd-loss plugin (see {@link kdBce}). */
export function bceLoss(): KdLossPlugin {
  return {
    meta: {
      name: 'bce',
      version: VERSION,
      kind: 'kd-loss',
      description: 'multi-label BCE of sigmoid(z_S/T) against sigmoid(z_T/T), mean over elements',
    },
    compute: (input) => kdBce(input),
  };
}
