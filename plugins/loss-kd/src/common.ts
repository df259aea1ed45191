/**
 * Shared input handling of the KD losses: validation and temperature scaling.
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, assertFloat, assertSameShape, shapeToString, type KdLossInput } from '@distillery/core';

/** Package version, stamped into every plugin's `meta.version`. */
export const VERSION = '0.1.0';

/** Validated KD inputs: logits divided by the temperature (broadcast per row), and the row count. */
export interface ScaledLogits {
  /** z_S / T, same shape as the logits. */
  readonly zS: tf.Tensor;
  /** z_T / T. */
  readonly zT: tf.Tensor;
  /** T broadcastable to the logits: a number, or a (…, 1) tensor. */
  readonly T: number | tf.Tensor;
  /** Number of rows (product of all axes but the class axis). */
  readonly rows: number;
}

/**
 * Checks the logits (float32, same shape, rank ≥ 2) and the temperature (a positive finite
 * number, a scalar tensor, or a float32 tensor of the logits' shape minus the class axis), then
 * divides both logits by T. Call inside `tf.tidy`.
 */
export function scaleLogits(input: KdLossInput, op: string): ScaledLogits {
  const ctx = { op };
  const { logitsS, logitsT, temperature } = input;
  assertFloat(logitsS, 'logitsS', ctx);
  assertFloat(logitsT, 'logitsT', ctx);
  assertSameShape(logitsS, logitsT, ['logitsS', 'logitsT'], ctx);
  if (logitsS.rank < 2) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `${op}: logits must be (B, C), (N, C) or (B, L, C), got ${shapeToString(logitsS.shape)}`,
    );
  }
  const rowShape = logitsS.shape.slice(0, -1);
  const rows = rowShape.reduce((a, b) => a * b, 1);
  let T: number | tf.Tensor;
  if (typeof temperature === 'number') {
    if (!Number.isFinite(temperature) || temperature <= 0) {
      throw new DistilleryError(
        'INVALID_INPUT',
        `${op}: temperature must be a positive finite number, got ${temperature}`,
        {
          hint: 'set "temperature" to e.g. 1, 4 or 8',
        },
      );
    }
    T = temperature;
  } else {
    assertFloat(temperature, 'temperature', ctx);
    if (temperature.rank === 0) {
      T = temperature;
    } else if (tf.util.arraysEqual(temperature.shape, rowShape)) {
      // Per-row temperature: add the class axis so it broadcasts over classes.
      T = tf.expandDims(temperature, -1);
    } else {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `${op}: temperature has shape ${shapeToString(temperature.shape)} but logits ${shapeToString(logitsS.shape)} need a number or a tensor of shape ${shapeToString(rowShape)}`,
      );
    }
  }
  const zS = typeof T === 'number' && T === 1 ? logitsS : tf.div(logitsS, T);
  const zT = typeof T === 'number' && T === 1 ? logitsT : tf.div(logitsT, T);
  return { zS, zT, T, rows };
}
