/**
 * Cross-field rules of the config sections, applied by the schemas (`.superRefine`). Each rule
 * refuses a setting that would otherwise be silently ignored or silently produce wrong numbers, with
 * the field's path and a fix (`params.hint`, shown by the validator).
 */
import type { z } from 'zod';

/** Largest float32: tensors hold the config's numbers in float32. */
const F32_MAX = 3.4028234663852886e38;

type Ctx = z.core.$RefinementCtx;

function issue(ctx: Ctx, path: (string | number)[], message: string, hint?: string): void {
  ctx.addIssue({ code: 'custom', path, message, ...(hint ? { params: { hint } } : {}) });
}

/** The fields of the training section the rules read. */
interface TrainingFields {
  numEpochs?: number;
  numSteps?: number;
  ckptSteps: number | null;
  outputDir: string;
  logDir: string | null;
  optimizer: { betas: [number, number] };
  lrScheduler: { warmupSteps?: number; warmupProportion?: number };
}

/** Rules of `training`: ckptSteps only in steps mode, betas in [0, 1), one warmup spelling, non-empty folders. */
export function trainingRules(t: TrainingFields, ctx: Ctx): void {
  // Only when epoch mode is explicit: train({ numSteps }) may still pick steps mode for a config without either.
  if (t.ckptSteps !== null && t.numEpochs !== undefined) {
    issue(
      ctx,
      ['ckptSteps'],
      `ckptSteps is only used in steps mode (numSteps); in epoch mode it would be ignored`,
      'use ckptFrequency (checkpoints per epoch) / ckptEpochFrequency, or train with numSteps',
    );
  }
  t.optimizer.betas.forEach((b, i) => {
    if (!(b >= 0 && b < 1))
      issue(
        ctx,
        ['optimizer', 'betas', i],
        `beta${i + 1} ${b} is outside [0, 1)`,
        `moving-average factors must be in [0, 1) (PyTorch default [0.9, 0.999])`,
      );
  });
  if (t.lrScheduler.warmupSteps !== undefined && t.lrScheduler.warmupProportion !== undefined) {
    issue(
      ctx,
      ['lrScheduler', 'warmupProportion'],
      'warmupSteps and warmupProportion are both set; one would silently win',
      'keep one of them',
    );
  }
  if (t.outputDir.trim() === '')
    issue(
      ctx,
      ['outputDir'],
      'outputDir is empty',
      'name a folder, e.g. "runs/my-run" (the default is ./saved_models)',
    );
  if (t.logDir !== null && t.logDir.trim() === '')
    issue(ctx, ['logDir'], 'logDir is empty', 'name a folder, or leave it out (metrics.jsonl then goes to outputDir)');
}

/** The fields of the distillation section the rules read. */
interface DistillationFields {
  temperature: number;
  intermediateMatches: readonly { weight: number }[];
}

/** Rules of `distillation`: a temperature whose square (the kl loss scales by T²) overflows float32; negative match weights. */
export function distillationRules(d: DistillationFields, ctx: Ctx): void {
  if (d.temperature * d.temperature > F32_MAX) {
    issue(
      ctx,
      ['temperature'],
      `temperature ${d.temperature} overflows float32 to Infinity (T² = ${(d.temperature * d.temperature).toPrecision(3)}; logits / T would be 0)`,
      'a KD temperature is usually between 1 and 20',
    );
  }
  d.intermediateMatches.forEach((m, i) => {
    // A negative weight turns the match into a term the optimizer maximises: the features are pushed apart.
    if (m.weight < 0)
      issue(
        ctx,
        ['intermediateMatches', i, 'weight'],
        `negative weight ${m.weight}: the loss would be maximised, pushing the features apart`,
        'use a weight >= 0 (0 disables the match)',
      );
  });
}
