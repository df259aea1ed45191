/**
 * The queue worker's `trial` job: load the submitter's config (the same file, on a shared
 * filesystem or the same path on every machine), run the trial, publish each evaluation as job
 * progress, and stop early when the submitter has flagged the trial as pruned.
 */
import type { Logger } from '@distillery/core';
import type { JobContext, TrialJobData, TrialJobResult } from '@distillery/queue';
import { loadJobConfig } from '../commands/validate.js';
import { runSearchTrial } from './search-trial.js';

/** Payload the submitter puts into each trial job. */
export interface TrialPayload {
  /** Absolute path of the job config. */
  configFile: string;
}

/** Run a `trial` job on this worker. */
export async function runTrialJob(data: TrialJobData, ctx: JobContext, logger: Logger): Promise<TrialJobResult> {
  const p = data.payload as unknown as TrialPayload;
  const { config, text } = await loadJobConfig(p.configFile);
  const stop = new AbortController();
  ctx.signal.addEventListener('abort', () => stop.abort(ctx.signal.reason));
  let lastStep: number | undefined;
  let pruned = false;
  const r = await runSearchTrial({
    config,
    configFile: p.configFile,
    configText: text,
    number: data.number,
    params: data.params,
    logger,
    signal: stop.signal,
    // A re-run (retry, or a dead worker's trial) starts the trial folder over; the run lock still
    // refuses a folder that a live process is writing.
    overwrite: true,
    onEvaluate: async (step, value) => {
      lastStep = step;
      await ctx.progress({ step, value });
      // The submitter decides on pruning (it holds the study); the flag shows up by the next evaluation.
      if (!pruned && (await ctx.stopRequested())) {
        pruned = true;
        stop.abort(new Error('pruned'));
      }
    },
  });
  // A hard stop (second SIGTERM) cut training short: fail this attempt so the job runs again, not a partial score.
  if (ctx.signal.aborted) throw new Error('the worker stopped before the trial finished');
  if (!pruned && (await ctx.stopRequested())) pruned = true;
  const worker = `${process.pid}`;
  return pruned ? { pruned: true, step: lastStep, worker } : { value: r.value, metric: r.metric, worker };
}
