import * as tf from '@tensorflow/tfjs-core';
import type { KdLossInput, KdLossPlugin } from '@distillery/core';
import { VERSION, scaleLogits } from './common.js';

/**
 * Mean squared error between temperature-scaled logits (TextBrewer `kd_mse_loss`).
 *
 *   loss = mean over all elements of (z_S / T − z_T / T)²
 *
 * - T is a number or a per-row tensor (logits' shape minus the class axis).
 * - Reduction: plain mean over every element (rows × classes). No T² factor.
 * - Masking: none here (select real rows first). A (0, C) input gives 0.
 */
export function kdMse(input: KdLossInput): tf.Scalar {
  return tf.tidy(() => {
    const { zS, zT, rows } = scaleLogits(input, 'kd mse');
    if (rows === 0) return tf.scalar(0);
    return tf.mean<tf.Scalar>(tf.squaredDifference(zS, zT));
  });
}

/** Factory of the `mse` kd-loss plugin (see {@link kdMse}). */
export function mseLoss(): KdLossPlugin {
  return {
    meta: { name: 'mse', version: VERSION, kind: 'kd-loss', description: 'mean((z_S/T − z_T/T)²) over all elements' },
    compute: (input) => kdMse(input),
  };
}
