import * as tf from '@tensorflow/tfjs-core';
import { detached, type TemperatureFn, type TemperatureSchedulerPlugin } from '@distillery/core';
import { VERSION, checkLogits, numberOption } from './common.js';

/** Options of {@link flswTemperature}. */
export interface FlswOptions {
  /** Strength of the adjustment (required). */
  readonly beta: number;
  /** Exponent of the discrepancy (required). */
  readonly gamma: number;
  /** Added to the norms (default 1e-4, as TextBrewer). */
  readonly eps?: number;
}

/**
 * The flsw temperature (Focal-Loss-Style Weights) for one head, as a tensor of the logits' shape
 * minus the class axis:
 *
 *   v = z_S / (‖z_S‖ + eps),  u = z_T / (‖z_T‖ + eps)   (norms over classes, per row)
 *   w = (1 − v·u)^gamma
 *   τ = τ0 + beta · (mean(w) − w)          (mean over **all** rows, across batch and length)
 *
 * Rows where student and teacher disagree more get a lower temperature. The result is detached
 * (zero gradient), like TextBrewer's `no_grad`. The caller owns the returned tensor.
 */
export function flswTau(logitsS: tf.Tensor, logitsT: tf.Tensor, baseTemperature: number, o: FlswOptions): tf.Tensor {
  checkLogits(logitsS, logitsT, 'flsw');
  // Computed off the tape: τ is a constant for the loss (TextBrewer's no_grad).
  return detached([logitsS, logitsT], () => {
    const eps = o.eps ?? 1e-4;
    const unit = (z: tf.Tensor) => tf.div(z, tf.add(tf.norm(z, 'euclidean', -1, true), eps));
    const cos = tf.sum(tf.mul(unit(logitsS), unit(logitsT)), -1);
    const w = tf.pow(tf.sub(1, cos), o.gamma);
    return tf.add(baseTemperature, tf.mul(tf.sub(tf.mean(w), w), o.beta));
  });
}

/** `flsw` temperature scheduler plugin; options `{ beta, gamma, eps? }` (see {@link flswTau}). */
export function flswTemperature(): TemperatureSchedulerPlugin {
  return {
    meta: {
      name: 'flsw',
      version: VERSION,
      kind: 'temperature-scheduler',
      description: 'τ = τ0 + β(mean(w) − w), w = (1 − cos(z_S, z_T))^γ',
    },
    // TextBrewer's positional form: ["flsw", beta, gamma, eps?]
    params: ['beta', 'gamma', 'eps'],
    create(options): TemperatureFn {
      const o: FlswOptions = {
        beta: numberOption(options, 'beta', 'flsw'),
        gamma: numberOption(options, 'gamma', 'flsw'),
        eps: numberOption(options, 'eps', 'flsw', 1e-4),
      };
      return (logitsS, logitsT, baseTemperature) => flswTau(logitsS, logitsT, baseTemperature, o);
    },
  };
}
