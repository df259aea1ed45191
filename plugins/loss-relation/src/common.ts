/**
 * Shared input handling of the relation losses.
 * @internal
 */
import type * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, assertFloat, type CheckContext, type MatchLossInput } from '@distillery/core';

/** Package version, stamped into `meta.version`. */
export const VERSION = '0.1.0';

/** A single tensor per side, or a clear error when a pair was wired in. */
export function single(x: tf.Tensor | readonly tf.Tensor[], side: 'stateS' | 'stateT', ctx: CheckContext): tf.Tensor {
  if (Array.isArray(x)) {
    throw new DistilleryError('INVALID_INPUT', `${ctx.op}: expects one tensor for ${side}, got a list of ${x.length}`, {
      where: ctx.where,
      hint: 'use a single layer for layerS/layerT',
    });
  }
  const t = x as tf.Tensor;
  assertFloat(t, side, ctx);
  return t;
}

/** The two tensors of a pair input ([X0, X1]), checked to be float32. */
export function pair(
  x: tf.Tensor | readonly tf.Tensor[],
  side: 'stateS' | 'stateT',
  ctx: CheckContext,
): [tf.Tensor, tf.Tensor] {
  if (!Array.isArray(x) || x.length !== 2) {
    throw new DistilleryError(
      'INVALID_INPUT',
      `${ctx.op}: ${side} must be a pair [X0, X1], got ${Array.isArray(x) ? `a list of ${x.length}` : 'a single tensor'}`,
      { where: ctx.where, hint: 'give two layers, e.g. layerS: [2, 3] and layerT: [4, 6] (use [i, i] for one layer)' },
    );
  }
  const [a, b] = x as readonly tf.Tensor[];
  assertFloat(a!, `${side}[0]`, ctx);
  assertFloat(b!, `${side}[1]`, ctx);
  return [a!, b!];
}

/** Mask of a match input: `maskS ?? maskT`. */
export function maskOf(input: MatchLossInput): tf.Tensor | undefined {
  return input.maskS ?? input.maskT;
}
