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

/** ε inside the cosine's norms, as in PyTorch's `cosine_embedding_loss`. */
export const COS_EPS = 1e-12;

/**
 * Cosine embedding loss between hidden states (TextBrewer `cos_loss`).
 *
 * Every position is a D-vector (inputs (B, L, D), or any rank ≥ 2 without a mask):
 *
 *   cos(s, t) = s·t / sqrt((|s|² + 1e-12) · (|t|² + 1e-12))
 *   loss = mean over positions of (1 − cos(s, t))
 *
 * - Mask (B, L) (`maskS ?? maskT`, non-zero = real): only real positions are averaged.
 * - Empty mask: the loss is defined as 0 (not NaN). A zero vector has cos 0 (loss 1), thanks to ε.
 * - Student and teacher must have the same D (project the student first).
 */
export function cosineLoss(input: MatchLossInput): tf.Scalar {
  const ctx = { op: 'cos', where: input.where };
  const { stateS, stateT } = input;
  if (Array.isArray(stateS) || Array.isArray(stateT)) {
    throw new DistilleryError('INVALID_INPUT', 'cos: expects one tensor per side, got a list', { where: input.where });
  }
  const s = stateS as tf.Tensor;
  const t = stateT as tf.Tensor;
  assertFloat(s, 'stateS', ctx);
  assertFloat(t, 'stateT', ctx);
  assertSameShape(s, t, ['stateS', 'stateT'], ctx);
  if (s.rank < 2) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `cos: states must be (…, D) with at least 2 axes, got ${shapeToString(s.shape)}`,
      { where: input.where },
    );
  }
  const mask = input.maskS ?? input.maskT;
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(s, t), -1);
    const ns = tf.add(tf.sum(tf.square(s), -1), COS_EPS);
    const nt = tf.add(tf.sum(tf.square(t), -1), COS_EPS);
    const oneMinusCos = tf.sub(1, tf.div(dot, tf.sqrt(tf.mul(ns, nt))));
    if (!mask) return tf.mean<tf.Scalar>(oneMinusCos);
    if (s.rank !== 3) {
      throw new DistilleryError('SHAPE_MISMATCH', `cos: a mask needs (B, L, D) states, got ${shapeToString(s.shape)}`, {
        where: input.where,
      });
    }
    const m = maskToFloat(mask, [s.shape[0], s.shape[1]!], ctx);
    return divByCount(tf.sum(tf.mul(oneMinusCos, m)), tf.sum(m));
  });
}

/** Factory of the `cos` match-loss plugin (see {@link cosineLoss}). */
export function cosLoss(): MatchLossPlugin {
  return {
    meta: {
      name: 'cos',
      version: VERSION,
      kind: 'match-loss',
      description: 'mean over (real) positions of 1 − cos(s, t), ε = 1e-12',
    },
    arity: 'single',
    features: ['hidden'],
    compute: (input) => cosineLoss(input),
  };
}
