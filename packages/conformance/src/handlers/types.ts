import type * as tf from '@tensorflow/tfjs-core';
import type { PluginContext, PluginRegistry } from '@distillery/core';
import type { ConformanceCase } from '../cases.js';

/** What a handler gets besides the decoded arguments. */
export interface HandlerContext {
  /** The registry the plugins are looked up in. */
  readonly registry: PluginRegistry;
  /** The case being run (raw, undecoded). */
  readonly case: ConformanceCase;
  /** A plugin context for `name` (tf, logger, no step info). */
  context(name: string): PluginContext;
}

/**
 * Runs one case: receives the case's `args` with every encoded tensor decoded to a tf.Tensor
 * (int64 → int32), and returns the result to compare with `expected`: a number, a tensor, a list,
 * or a plain object of those. Tensors created while it runs are disposed after the comparison.
 * Throwing counts the case as failed (the message is reported).
 */
/** Returns the result (plain data or tensors), or a promise of it. */
export type Handler = (args: Record<string, unknown>, hctx: HandlerContext) => unknown;

/** Handlers by case `fn`. */
export type HandlerTable = Record<string, Handler>;

/** A decoded tensor argument, or a clear error naming the argument. */
export function tensorArg(args: Record<string, unknown>, key: string): tf.Tensor {
  const v = args[key];
  if (v === undefined || v === null || typeof (v as tf.Tensor).dataSync !== 'function') {
    throw new Error(`argument "${key}" must be a tensor (got ${v === undefined ? 'nothing' : typeof v})`);
  }
  return v as tf.Tensor;
}
