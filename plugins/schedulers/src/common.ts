/**
 * Shared option and input handling of the schedulers.
 * @internal
 */
import type * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, assertFloat, assertSameShape } from '@distillery/core';

/** Package version, stamped into `meta.version`. */
export const VERSION = '0.1.0';

/** Reads a finite number option; `fallback` undefined means the option is required. */
export function numberOption(
  options: Readonly<Record<string, unknown>>,
  key: string,
  scheduler: string,
  fallback?: number,
): number {
  const v = options[key];
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new DistilleryError('CONFIG_INVALID', `temperature scheduler "${scheduler}" needs option "${key}"`, {
      where: `temperatureScheduler.${key}`,
      hint: scheduler === 'flsw' ? 'e.g. ["flsw", { "beta": 1, "gamma": 2 }]' : 'e.g. ["cwsm", { "beta": 1 }]',
    });
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new DistilleryError(
      'CONFIG_INVALID',
      `temperature scheduler "${scheduler}": option "${key}" must be a finite number, got ${JSON.stringify(v)}`,
      {
        where: `temperatureScheduler.${key}`,
      },
    );
  }
  return v;
}

/** Checks the logits handed to a temperature scheduler (float32, same shape, rank ≥ 2). */
export function checkLogits(logitsS: tf.Tensor, logitsT: tf.Tensor, op: string): void {
  assertFloat(logitsS, 'logitsS', { op });
  assertFloat(logitsT, 'logitsT', { op });
  assertSameShape(logitsS, logitsT, ['logitsS', 'logitsT'], { op });
  if (logitsS.rank < 2) {
    throw new DistilleryError('SHAPE_MISMATCH', `${op}: logits must be (B, C) or (B, L, C), got rank ${logitsS.rank}`);
  }
}
