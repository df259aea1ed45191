import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, type MatchLossPlugin } from '@distillery/core';

/**
 * `hidden_l1`: mean absolute error between student and teacher hidden states.
 *
 * - Formula: mean over real positions and all D of |S − T| (no mask: over every element).
 * - Mask: `maskS ?? maskT`, a (B, L) 0/1 tensor; an all-zero mask gives 0.
 * - Shapes: S and T must be equal (project the student first with `proj`).
 */
export function hiddenL1Loss(): MatchLossPlugin {
  return {
    meta: { name: 'hidden_l1', version: '0.1.0', kind: 'match-loss', description: 'mean |S − T| over real positions' },
    features: ['hidden'],
    compute({ stateS, stateT, maskS, maskT, where }) {
      const s = stateS as tf.Tensor;
      const t = stateT as tf.Tensor;
      if (!tf.util.arraysEqual(s.shape, t.shape)) {
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `hidden_l1: student [${s.shape.join(',')}] vs teacher [${t.shape.join(',')}]`,
          { where, hint: 'add "proj": ["linear", dimS, dimT] to the match' },
        );
      }
      return tf.tidy(() => {
        const diff = tf.abs(tf.sub(s, t));
        const mask = maskS ?? maskT;
        if (!mask || s.rank !== 3) return tf.mean<tf.Scalar>(diff);
        const m = tf.expandDims(tf.cast(tf.notEqual(mask, 0), 'float32'), -1);
        const count = tf.maximum(tf.mul(tf.sum(m), s.shape[2]!), 1);
        return tf.div<tf.Scalar>(tf.sum(tf.mul(diff, m)), count);
      });
    },
  };
}
