/**
 * One search trial: the job config with the trial's parameters applied, distilled into its own
 * output folder, scored by {@link objectiveOf}. The in-process search and the queue worker's
 * `trial` handler both run trials through here, so a trial gives the same value wherever it runs.
 */
import { join } from 'node:path';
import type { Logger } from '@distillery/core';
import type { Params } from '@distillery/search';
import type { JobConfig } from './schema.js';
import { runJob } from './run.js';
import { applySearchParams, intermediateOf, objectiveOf } from './search-params.js';

/** What a trial needs besides its parameters. */
export interface TrialRunOptions {
  config: JobConfig;
  configFile: string;
  configText: string;
  number: number;
  params: Params;
  logger: Logger;
  signal?: AbortSignal;
  /** Replace what an earlier attempt left in the trial folder (queued re-runs). @default false */
  overwrite?: boolean;
  /** Each evaluation's intermediate value (validation accuracy when reported). */
  onEvaluate?: (step: number, value: number) => void | Promise<void>;
}

/** The output folder of trial `n`: `<training.outputDir>/search/trial-<n>`. */
export const trialOutputDir = (config: JobConfig, n: number) => join(config.training.outputDir, 'search', `trial-${n}`);

/** Run one trial; returns the objective and the summary key it was read from. */
export async function runSearchTrial(o: TrialRunOptions): Promise<{ value: number; metric: string }> {
  const cfg = applySearchParams(o.config, o.params);
  cfg.training = { ...cfg.training, outputDir: trialOutputDir(o.config, o.number) };
  const summary = await runJob(cfg, 'distill', {
    logger: o.logger,
    progress: false,
    configFile: o.configFile,
    configText: o.configText,
    signal: o.signal,
    overwrite: o.overwrite,
    onEvaluate: (gs, m) => {
      const v = intermediateOf(m);
      if (v !== undefined) void o.onEvaluate?.(gs, v);
    },
  });
  return objectiveOf(summary);
}
