import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, type MatchLossPlugin } from '@distillery/core';

/**
 * `hidden_smooth_l1`: Huber (smooth L1) loss between student and teacher hidden states, as PyTorch's
 * `smooth_l1_loss(S, T, beta)`: 0.5·d²/β where |d| < β, else |d| − 0.5·β; the mean over real positions.
 *
 * - Option `beta` (match entry `"options": {"beta": 1}`): the switch point, > 0. @default 1
 * - Mask: `maskS ?? maskT`, (B, L) 0/1; no mask: the mean over every element.
 */
export function hiddenSmoothL1Loss(): MatchLossPlugin {
  return {
    meta: {
      name: 'hidden_smooth_l1',
      version: '0.1.0',
      kind: 'match-loss',
      description: 'Huber loss between hidden states (beta option)',
    },
    features: ['hidden'],
    compute({ stateS, stateT, maskS, maskT, options, where }) {
      const s = stateS as tf.Tensor;
      const t = stateT as tf.Tensor;
      const beta = options?.beta ?? 1;
      if (typeof beta !== 'number' || !(beta > 0)) {
        throw new DistilleryError(
          'CONFIG_INVALID',
          `hidden_smooth_l1: options.beta must be a number > 0, got ${JSON.stringify(beta)}`,
          { where: `${where ?? 'match'}.options.beta`, hint: '"options": { "beta": 1 }' },
        );
      }
      if (!tf.util.arraysEqual(s.shape, t.shape)) {
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `hidden_smooth_l1: student [${s.shape.join(',')}] vs teacher [${t.shape.join(',')}]`,
          { where, hint: 'add "proj": ["linear", dimS, dimT] to the match' },
        );
      }
      return tf.tidy(() => {
        const d = tf.abs(tf.sub(s, t));
        // c = min(d, β): 0.5·c²/β + (d − c) is the Huber loss with no branch to differentiate.
        const c = tf.minimum(d, beta);
        const loss = tf.add(tf.div(tf.mul(0.5, tf.square(c)), beta), tf.sub(d, c));
        const mask = maskS ?? maskT;
        if (!mask || s.rank !== 3) return tf.mean<tf.Scalar>(loss);
        const m = tf.expandDims(tf.cast(tf.notEqual(mask, 0), 'float32'), -1);
        const count = tf.maximum(tf.mul(tf.sum(m), s.shape[2]!), 1);
        return tf.div<tf.Scalar>(tf.sum(tf.mul(loss, m)), count);
      });
    },
  };
}
