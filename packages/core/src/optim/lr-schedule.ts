import type { LrSchedulerConfig } from '../config/schema.js';

/**
 * LR multiplier as a function of the number of optimizer steps already taken (Hugging Face
 * `get_*_schedule_with_warmup` semantics: the first step uses factor(0)).
 */
export function lrFactor(cfg: LrSchedulerConfig, step: number, totalSteps: number): number {
  const warm = cfg.warmupSteps ?? Math.floor((cfg.warmupProportion ?? 0) * totalSteps);
  if (cfg.type === 'constant') return 1;
  if (step < warm) return step / Math.max(1, warm);
  if (cfg.type === 'constant_with_warmup') return 1;
  return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warm));
}
