/**
 * Shared input handling of the attention losses.
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  DistilleryError,
  assertFloat,
  assertSameShape,
  maskToFloat,
  shapeToString,
  type MatchLossInput,
} from '@distillery/core';

/** Package version, stamped into `meta.version`. */
export const VERSION = '0.1.0';

/** TextBrewer's no-mask threshold: entries ≤ −1e-3 are taken for −10000 padding and zeroed. */
export const PAD_THRESHOLD = -1e-3;

/** Options every attention loss reads from the match entry's `options`. */
export interface AttentionLossOptions {
  /**
   * `false` (default): TextBrewer-compatible numbers, including the no-mask thresholding quirk.
   * `true`: a true MSE/CE over real tokens: no thresholding; without a mask every position
   * counts; with a mask the CE's teacher and student distributions are renormalised over the
   * real keys (softmax over real keys only).
   */
  readonly exact?: boolean;
}

/** How the head axis of a 4-D input is reduced before the loss. */
export type HeadReduction = 'keep' | 'sum' | 'mean';

/** Validated attention inputs, as 4-D (B, H, L, L) tensors (H = 1 after a head reduction or for 3-D input). */
export interface AttentionInputs {
  readonly s: tf.Tensor4D;
  readonly t: tf.Tensor4D;
  /** (B, L) float 0/1 mask, or undefined. */
  readonly m?: tf.Tensor2D;
  readonly exact: boolean;
  readonly H: number;
}

/**
 * Checks S and T (float32, same shape, (B, H, L, L) or (B, L, L)), the mask ((B, L) matching the
 * key length) and `options.exact`; reduces heads as asked and returns 4-D views. Call in `tf.tidy`.
 */
export function attentionInputs(input: MatchLossInput, op: string, heads: HeadReduction): AttentionInputs {
  const ctx = { op, where: input.where };
  const { stateS, stateT } = input;
  if (Array.isArray(stateS) || Array.isArray(stateT)) {
    throw new DistilleryError('INVALID_INPUT', `${op}: expects one attention tensor per side, got a list`, {
      where: input.where,
    });
  }
  let s = stateS as tf.Tensor;
  let t = stateT as tf.Tensor;
  assertFloat(s, 'stateS', ctx);
  assertFloat(t, 'stateT', ctx);
  for (const [x, side] of [
    [s, 'stateS'],
    [t, 'stateT'],
  ] as const) {
    if (x.rank !== 3 && x.rank !== 4) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `${op}: ${side} attention must be (B, H, L, L) or (B, L, L), got ${shapeToString(x.shape)}`,
        {
          where: input.where,
        },
      );
    }
  }
  const exactOpt = input.options?.exact;
  if (exactOpt !== undefined && typeof exactOpt !== 'boolean') {
    throw new DistilleryError(
      'INVALID_INPUT',
      `${op}: options.exact must be true or false, got ${JSON.stringify(exactOpt)}`,
      { where: input.where },
    );
  }
  // Head-reducing losses compare (B, L, L) maps, so teacher and student may have different head
  // counts (TextBrewer allows it); shapes are checked after the reduction.
  if (heads !== 'keep') {
    const reduce = (x: tf.Tensor) => (x.rank === 4 ? (heads === 'sum' ? tf.sum(x, 1) : tf.mean(x, 1)) : x);
    s = reduce(s);
    t = reduce(t);
  }
  assertSameShape(s, t, ['stateS', 'stateT'], ctx);
  const s4 = (s.rank === 3 ? tf.expandDims(s, 1) : s) as tf.Tensor4D;
  const t4 = (t.rank === 3 ? tf.expandDims(t, 1) : t) as tf.Tensor4D;
  const [B, H, Lq, Lk] = s4.shape;
  const mask = input.maskS ?? input.maskT;
  let m: tf.Tensor2D | undefined;
  if (mask) {
    if (Lq !== Lk) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `${op}: a mask needs square (…, L, L) attention, got ${shapeToString(s4.shape)}`,
        { where: input.where },
      );
    }
    m = maskToFloat(mask, [B, Lk], ctx);
  }
  return { s: s4, t: t4, m, exact: exactOpt === true, H };
}

/** m_i · m_j as a (B, 1, L, L) tensor. */
export function pairMask(m: tf.Tensor2D): tf.Tensor4D {
  const [B, L] = m.shape;
  return tf.mul(tf.reshape(m, [B, 1, L, 1]), tf.reshape(m, [B, 1, 1, L]));
}

/**
 * Boolean mask of the entries ≤ −1e-3. Written as `−1e-3 ≥ x` because tfjs-core registers a
 * (zero) gradient for GreaterEqual but none for LessEqual, and this op sits on the student's
 * gradient path.
 */
export function isPadding(x: tf.Tensor): tf.Tensor {
  return tf.greaterEqual(tf.scalar(PAD_THRESHOLD), x);
}

/** Zero every entry ≤ −1e-3 (TextBrewer's padding heuristic). */
export function dropPadding(x: tf.Tensor): tf.Tensor {
  return tf.where(isPadding(x), tf.zerosLike(x), x);
}
