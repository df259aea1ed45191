import * as tf from '@tensorflow/tfjs-core';
import {
  DistilleryError,
  assertFloat,
  assertSameShape,
  divByCount,
  maskToFloat,
  shapeToString,
  type MatchLossInput,
  type MatchLossPlugin,
} from '@distillery/core';

/** Package version, stamped into `meta.version`. */
export const VERSION = '0.1.0';

/**
 * Mean squared error between hidden states (TextBrewer `hid_mse_loss`).
 *
 * Inputs: `stateS`, `stateT` of identical shape (B, L, D) (any rank ≥ 1 without a mask; project
 * the student first when D differs), optional (B, L) mask (`maskS ?? maskT`; non-zero = real token).
 *
 * - No mask:   loss = mean over all elements of (S − T)².
 * - With mask: loss = Σ_{b,i real} Σ_d (S − T)² / ((Σ m) · D): padded positions are excluded
 *   from the numerator and the denominator.
 * - Empty mask (no real token anywhere): the loss is defined as 0 (not NaN).
 */
export function hiddenMse(input: MatchLossInput): tf.Scalar {
  const ctx = { op: 'hidden_mse', where: input.where };
  const { stateS, stateT } = input;
  if (Array.isArray(stateS) || Array.isArray(stateT)) {
    throw new DistilleryError('INVALID_INPUT', 'hidden_mse: expects one tensor per side, got a list', {
      where: input.where,
      hint: 'use a single layer for layerS/layerT (pairs are for fsp/nst)',
    });
  }
  const s = stateS as tf.Tensor;
  const t = stateT as tf.Tensor;
  assertFloat(s, 'stateS', ctx);
  assertFloat(t, 'stateT', ctx);
  assertSameShape(s, t, ['stateS', 'stateT'], ctx);
  const mask = input.maskS ?? input.maskT;
  return tf.tidy(() => {
    if (!mask) return tf.mean<tf.Scalar>(tf.squaredDifference(s, t));
    if (s.rank !== 3) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `hidden_mse: a mask needs (B, L, D) states, got ${shapeToString(s.shape)}`,
        { where: input.where },
      );
    }
    const [B, L, D] = s.shape as [number, number, number];
    const m = maskToFloat(mask, [B, L], ctx);
    const num = tf.sum(tf.mul(tf.squaredDifference(s, t), tf.expandDims(m, -1)));
    return divByCount(num, tf.mul(tf.sum(m), D));
  });
}

/** Factory of the `hidden_mse` match-loss plugin (see {@link hiddenMse}). */
export function hiddenMseLoss(): MatchLossPlugin {
  return {
    meta: {
      name: 'hidden_mse',
      version: VERSION,
      kind: 'match-loss',
      description: 'MSE of hidden states; masked: Σ over real positions / (Σm·D)',
    },
    arity: 'single',
    features: ['hidden'],
    compute: (input) => hiddenMse(input),
  };
}
