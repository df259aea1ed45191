/**
 * The job's memory check before a training phase: the models as they were built (parameter counts, the
 * largest tensor, the encoder shape where there is one), the task's batch and length, the backend's limit.
 * A configuration that cannot fit stops here with `MEMORY_WONT_FIT`, before the first step.
 */
import {
  assertFitsMemory,
  fmtBytes,
  memoryLimitOf,
  type DistillModel,
  type EncoderShape,
  type Logger,
  type MemoryModel,
} from '@distillery/core';
import type { JobConfig } from './schema.js';
import { innerModel } from './paired.kit.js';

/** Sizes of all of a model's weights: frozen (pretrained) teachers have no variables, so their weights count. */
export function weightSizes(m: DistillModel<unknown>): number[] {
  const all = (m as { weights?: () => Readonly<Record<string, { size: number }>> }).weights?.() ?? m.parameters();
  return Object.values(all).map((t) => t.size);
}

/** Parameter count, largest tensor and encoder shape of a built model (all weights: a frozen teacher has no variables). */
export function memoryModelOf(model: DistillModel<unknown>, opts: { external?: boolean } = {}): MemoryModel {
  const m = innerModel(model);
  const sizes = weightSizes(m);
  const c = (m as { config?: Partial<EncoderShape> }).config;
  const encoder =
    c &&
    [c.numHiddenLayers, c.hiddenSize, c.numAttentionHeads, c.intermediateSize].every(
      (v) => typeof v === 'number' && v > 0,
    )
      ? (c as EncoderShape)
      : undefined;
  return {
    parameters: sizes.reduce((a, b) => a + b, 0),
    largestParameter: sizes.reduce((a, b) => Math.max(a, b), 0),
    ...(encoder ? { encoder } : {}),
    ...(opts.external ? { external: true } : {}),
  };
}

/**
 * Estimate one step of training `trainee` (with `teacher` beside it when distilling) and refuse it when it
 * exceeds the backend's memory; logs the estimate otherwise.
 */
export function checkStepMemory(
  cfg: JobConfig,
  backend: string,
  trainee: DistillModel<unknown>,
  teacher: DistillModel<unknown> | undefined,
  log: Logger,
  what: string,
  optimizer: 'adamw' | 'adam' | 'sgd' = cfg.training.optimizer.type,
): void {
  const seqLen = cfg.task.maxLength ?? 128;
  const input = {
    batchSize: cfg.task.batchSize,
    seqLen,
    student: memoryModelOf(trainee),
    ...(teacher ? { teacher: memoryModelOf(teacher, { external: cfg.teacher.model.type === 'onnx' }) } : {}),
    optimizerMoments: optimizer === 'sgd' ? 0 : 2,
  };
  const limit = memoryLimitOf(backend);
  const e = assertFitsMemory(input, limit);
  log.debug(`${what}: estimated ${fmtBytes(e.totalBytes)} of tensor memory per step (limit: ${limit.what})`);
}
