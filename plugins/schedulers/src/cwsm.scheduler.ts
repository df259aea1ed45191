import * as tf from '@tensorflow/tfjs-core';
import { detached, type TemperatureFn, type TemperatureSchedulerPlugin } from '@distillery/core';
import { VERSION, checkLogits, numberOption } from './common.js';

/** Options of {@link cwsmTemperature}. */
export interface CwsmOptions {
  /** Strength of the adjustment (required). */
  readonly beta: number;
  /** Added to the max probability (default 1e-3, TextBrewer's constant). */
  readonly eps?: number;
}

/**
 * The cwsm temperature (Confidence-Weighted by Student Max) for one head, from the student only,
 * as a tensor of the logits' shape minus the class axis:
 *
 *   w = 1 / (max_c softmax(z_S)_c + eps)
 *   τ = τ0 + beta · (mean(w) − w)          (mean over all rows)
 *
 * Confident student rows get a higher temperature. Detached (zero gradient). The caller owns
 * the returned tensor.
 */
export function cwsmTau(logitsS: tf.Tensor, logitsT: tf.Tensor, baseTemperature: number, o: CwsmOptions): tf.Tensor {
  checkLogits(logitsS, logitsT, 'cwsm');
  return detached([logitsS], () => {
    const w = tf.div(1, tf.add(tf.max(tf.softmax(logitsS, -1), -1), o.eps ?? 1e-3));
    return tf.add(baseTemperature, tf.mul(tf.sub(tf.mean(w), w), o.beta));
  });
}

/** `cwsm` temperature scheduler plugin; options `{ beta, eps? }` (see {@link cwsmTau}). */
export function cwsmTemperature(): TemperatureSchedulerPlugin {
  return {
    meta: {
      name: 'cwsm',
      version: VERSION,
      kind: 'temperature-scheduler',
      description: 'τ = τ0 + β(mean(w) − w), w = 1/(max softmax(z_S) + 1e-3)',
    },
    // TextBrewer's positional form: ["cwsm", beta]
    params: ['beta'],
    create(options): TemperatureFn {
      const o: CwsmOptions = {
        beta: numberOption(options, 'beta', 'cwsm'),
        eps: numberOption(options, 'eps', 'cwsm', 1e-3),
      };
      return (logitsS, logitsT, baseTemperature) => cwsmTau(logitsS, logitsT, baseTemperature, o);
    },
  };
}
