import * as tf from '@tensorflow/tfjs-core';
import {
  DistilleryError,
  assertSameShape,
  shapeToString,
  type MatchLossInput,
  type MatchLossPlugin,
} from '@distillery/core';
import { VERSION, single } from './common.js';

/**
 * Patient-KD loss (TextBrewer `pkd_loss`, Sun et al. 2019).
 *
 * Take position 0 of a 3-D (B, L, D) input (a 2-D (B, D) input is used as is) and L2-normalise
 * each row: n = x / ‖x‖. Then
 *
 *   loss = mean over the batch of ‖n_S − n_T‖²
 *
 * - **The mask is ignored** (position 0 is always a real token), as in TextBrewer.
 * - No ε in the norm, as TextBrewer; but ‖x‖² is floored at 1e-24 so a zero vector gives
 *   n = 0 (and finite gradients) instead of NaN. Any non-zero vector is unaffected.
 */
export function pkd(input: MatchLossInput): tf.Scalar {
  const ctx = { op: 'pkd', where: input.where };
  const s = single(input.stateS, 'stateS', ctx);
  const t = single(input.stateT, 'stateT', ctx);
  for (const [x, n] of [
    [s, 'stateS'],
    [t, 'stateT'],
  ] as const) {
    if (x.rank !== 2 && x.rank !== 3) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `pkd: ${n} must be (B, L, D) or (B, D), got ${shapeToString(x.shape)}`,
        { where: input.where },
      );
    }
  }
  return tf.tidy(() => {
    const cls = (x: tf.Tensor) => (x.rank === 3 ? tf.squeeze(tf.slice(x, [0, 0, 0], [-1, 1, -1]), [1]) : x);
    const cS = cls(s);
    const cT = cls(t);
    assertSameShape(cS, cT, ['stateS[:, 0]', 'stateT[:, 0]'], ctx);
    const normed = (x: tf.Tensor) => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, true), 1e-24)));
    return tf.mean<tf.Scalar>(tf.sum(tf.squaredDifference(normed(cS), normed(cT)), -1));
  });
}

/** Factory of the `pkd` match-loss plugin (see {@link pkd}). */
export function pkdLoss(): MatchLossPlugin {
  return {
    meta: {
      name: 'pkd',
      version: VERSION,
      kind: 'match-loss',
      description: 'Patient-KD: mean ‖x_S[:,0]/‖·‖ − x_T[:,0]/‖·‖‖², mask ignored',
    },
    arity: 'single',
    features: ['hidden'],
    compute: (input) => pkd(input),
  };
}
