/**
 * Input checks and small numeric helpers shared by the loss plugins and the distillers.
 *
 * Every check throws a {@link DistilleryError} that names both shapes (or the dtype) and the
 * `where` label of the caller (usually the match entry, e.g. `intermediateMatches[2]`), so a
 * mis-wired config is diagnosed at the first step instead of producing NaN later.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '../util/errors.js';

/** `[2,5,16]` → `"(2, 5, 16)"` for messages. */
export function shapeToString(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}

/** Common context of the checks: what the tensor is (`"stateS"`) and where it came from. */
export interface CheckContext {
  /** Label of the caller (match entry, config path); prefixed to the message. */
  readonly where?: string;
  /** Name of the loss or utility, used in messages (e.g. `hidden_mse`). */
  readonly op?: string;
}

function prefix(ctx: CheckContext): string {
  return ctx.op ? `${ctx.op}: ` : '';
}

/**
 * Throws `DTYPE_MISMATCH` unless `t` is a float32 tensor. Integer tensors (token ids, masks)
 * passed where activations are expected are the usual wiring mistake, so say so.
 */
export function assertFloat(t: tf.Tensor, what: string, ctx: CheckContext = {}): void {
  if (!(t instanceof tf.Tensor)) {
    throw new DistilleryError('INVALID_INPUT', `${prefix(ctx)}${what} must be a tf.Tensor (got ${describe(t)})`, {
      where: ctx.where,
    });
  }
  if (t.dtype !== 'float32') {
    throw new DistilleryError(
      'DTYPE_MISMATCH',
      `${prefix(ctx)}${what} must be float32, got ${t.dtype} tensor of shape ${shapeToString(t.shape)}`,
      {
        where: ctx.where,
        hint: 'pass activations/logits here; integer tensors (ids, masks, labels) belong elsewhere, or cast with tf.cast(x, "float32")',
      },
    );
  }
}

/** Throws `SHAPE_MISMATCH` naming both shapes unless `a` and `b` have identical shapes. */
export function assertSameShape(
  a: tf.Tensor,
  b: tf.Tensor,
  names: readonly [string, string],
  ctx: CheckContext = {},
): void {
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `${prefix(ctx)}${names[0]} has shape ${shapeToString(a.shape)} but ${names[1]} has shape ${shapeToString(b.shape)}`,
      {
        where: ctx.where,
        hint: 'student and teacher tensors must have the same shape here; add a projection ("proj") or pick matching layers',
      },
    );
  }
}

/** Throws `SHAPE_MISMATCH` unless `t.rank` is one of `ranks`. */
export function assertRank(t: tf.Tensor, ranks: readonly number[], what: string, ctx: CheckContext = {}): void {
  if (!ranks.includes(t.rank)) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `${prefix(ctx)}${what} must have rank ${ranks.join(' or ')}, got shape ${shapeToString(t.shape)}`,
      { where: ctx.where },
    );
  }
}

/**
 * A (B, L) mask as a float32 0/1 tensor: every non-zero entry counts as a real token (so a
 * mask of 0/1 ints, bools or floats all work). Checks it is 2-D and, when `expected` is given,
 * that it is exactly `(B, L)` = `expected`. The caller owns the result (use inside `tf.tidy`).
 */
export function maskToFloat(
  mask: tf.Tensor,
  expected: readonly [number, number] | undefined,
  ctx: CheckContext = {},
): tf.Tensor2D {
  if (!(mask instanceof tf.Tensor)) {
    throw new DistilleryError('INVALID_INPUT', `${prefix(ctx)}mask must be a tf.Tensor (got ${describe(mask)})`, {
      where: ctx.where,
    });
  }
  if (mask.rank !== 2 || (expected && !tf.util.arraysEqual(mask.shape, [...expected]))) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `${prefix(ctx)}mask has shape ${shapeToString(mask.shape)} but the features need a (B, L) mask of shape ${expected ? shapeToString(expected) : '(B, L)'}`,
      { where: ctx.where, hint: 'the mask is the (batch, length) 0/1 attention mask of the inputs' },
    );
  }
  return tf.tidy(() => tf.cast(tf.notEqual(mask, 0), 'float32') as tf.Tensor2D);
}

/**
 * `num / den` where `den` is a count (a non-negative integer-valued tensor): returns 0 when the
 * count is 0 instead of NaN. For counts ≥ 1 this is exactly `num / den`.
 */
export function divByCount(num: tf.Tensor, den: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div<tf.Scalar>(num, tf.maximum(den, 1)));
}

/**
 * Runs `fn` with gradient recording off and returns its result as a constant: PyTorch's
 * `with torch.no_grad()` / `.detach()`. tfjs-core has neither, so this is a `customGrad` whose
 * forward pass (where the engine records nothing) runs `fn`, and whose gradient is zero for
 * every tensor in `inputs` (the tensors `fn` reads that may be on the tape; at least one).
 * Because nothing inside `fn` is recorded, no NaN from inside it (e.g. the gradient of a norm
 * at 0) can leak into the backward pass.
 */
export function detached<T extends tf.Tensor>(inputs: readonly tf.Tensor[], fn: () => T): T {
  if (inputs.length === 0) throw new DistilleryError('INVALID_INPUT', 'detached: give at least one input tensor');
  const f = tf.customGrad((...args: unknown[]) => {
    const xs = args.slice(0, inputs.length) as tf.Tensor[];
    return { value: fn(), gradFunc: () => xs.map((x) => tf.zerosLike(x)) };
  });
  return (f as (...xs: tf.Tensor[]) => tf.Tensor)(...inputs) as T;
}

/** Identity in the forward pass, zero gradient in the backward pass (`x.detach()`). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return detached([x], () => x.clone());
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  return typeof x;
}
