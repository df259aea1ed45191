/**
 * @distillery/core — configs, plugin registry, events and distillers.
 * @packageDocumentation
 */
import 'reflect-metadata';
export * as tf from '@tensorflow/tfjs-core';
export * from './plugin/types.js';
export * from './plugin/registry.js';
export * from './plugin/resolve.js';
export {
  PLUGIN_TOKENS,
  LOGGER_TOKEN,
  REGISTRY_TOKEN,
  STEP_TOKEN,
  PLUGIN_CONTEXT_TOKEN,
  pluginToken,
  type PluginContextFactory,
} from './plugin/tokens.js';
export * from './util/errors.js';
export * from './util/logger.js';
export * from './model/types.js';
export * from './util/shared.js';
export * from './config/index.js';
export * from './tensor/index.js';
export * from './io/index.js';
export * from './events/events.js';
export * from './optim/optimizer.js';
export * from './optim/lr-schedule.js';
export * from './model/validate.js';
export * from './distillers/plan.js';
export * from './distillers/compute-loss.js';
export * from './distillers/trainer-base.js';
export * from './distillers/basic-trainer.js';
export * from './distillers/basic-distiller.js';
export * from './distillers/general-distiller.js';
export * from './checkpoint/checkpoint.js';
export * from './checkpoint/metrics.js';
export * from './model/mlp.model.js';
export * from './backend/index.js';
export * from './distillers/multi-teacher-distiller.js';
export * from './distillers/multi-task-distiller.js';
export * from './util/rng.js';
export * from './kernels/names.js';
export * from './run/output-lock.js';
export * from './run/memory-estimate.js';
export * from './loop/guard.js';
export * from './loop/types.js';
export * from './loop/hook-list.js';
export * from './loop/hooks.js';
export * from './loop/teacher-side.js';
export * from './loop/teacher-cache-store.js';
export * from './loop/cached-teacher.js';
export * from './loop/step.js';
export * from './loop/checkpointer.js';
export { runLoop, epochOf, type LoopSpec } from './loop/run-loop.js';
export * from './checkpoint/folder.js';
export * from './checkpoint/state.js';
export * from './distillers/stages.js';
