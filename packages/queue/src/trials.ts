/**
 * Search trials on workers: the sampler and the study stay in this (submitting) process; each
 * asked trial becomes one BullMQ job whose id is derived from the study and the trial number, so
 * enqueueing it twice (a resumed submitter) finds the same job, and each trial is told once.
 *
 * Pruning across processes: a worker publishes each evaluation with `job.updateProgress({step,
 * value})`; this process records it in the study, asks the pruner, and when it says stop sets a
 * Redis key (`distillery:prune:<jobId>`, expiring after a day) that the worker reads after each
 * evaluation, so a pruned trial stops at its next evaluation and returns `{pruned: true}`.
 */
import { randomBytes } from 'node:crypto';
import { DistilleryError, type Logger } from '@distillery/core';
import type { Params, Study, Trial } from '@distillery/search';
import { QUEUE_NAME, loadBullmq, parseQueueUrl, pruneKey, redisClient } from './connection.js';

/** Data of a `trial` job. */
export interface TrialJobData {
  /** Study key + trial number: identifies the trial across processes. */
  studyKey: string;
  number: number;
  params: Params;
  /** Anything the handler needs to run the trial (the CLI: config file and text, output folder). */
  payload: Record<string, unknown>;
}

/** Return value of a `trial` job. */
export type TrialJobResult =
  { value: number; metric?: string; worker?: string } | { pruned: true; step?: number; worker?: string };

/** Options of {@link optimizeQueued}. */
export interface QueuedOptimizeOptions {
  url: string;
  /** Total finished trials the study should hold. */
  nTrials: number;
  /** Trials on the queue at once (usually the number of workers). @default 3 */
  parallel?: number;
  /** The job data handed to the worker for a trial. */
  payload(t: { number: number; params: Params }): Record<string, unknown>;
  /** Attempts per trial (a failing trial is retried with exponential backoff). @default 3 */
  attempts?: number;
  /** First retry delay, doubled each time (ms). @default 1000 */
  backoffMs?: number;
  logger: Logger;
  /** Called after each finished trial. */
  onTrial?: (t: Trial, study: Study) => void;
}

/** The study's queue key: random, stored in the study's meta so a resumed study keeps it. */
export function studyKeyOf(study: Study): string {
  if (typeof study.meta.queueKey !== 'string') {
    study.meta.queueKey = `s${randomBytes(6).toString('hex')}`;
    study.save();
  }
  return study.meta.queueKey as string;
}

/** The job id of a trial (no `:` — BullMQ refuses it in custom ids). */
export const trialJobId = (studyKey: string, number: number) => `${studyKey}-trial-${number}`;

/**
 * Run trials on workers until the study holds `nTrials` finished trials. A trial whose job ends in
 * the failed set (every attempt failed) is told `fail`; no new trials are asked after that and the
 * error is thrown once the in-flight ones are in (as the in-process runner does).
 */
export async function optimizeQueued(study: Study, o: QueuedOptimizeOptions): Promise<Trial | undefined> {
  if (!Number.isInteger(o.nTrials) || o.nTrials < 1)
    throw new DistilleryError('USAGE', `the number of trials must be a positive integer, got ${o.nTrials}`, {
      where: '--trials',
    });
  const conn = parseQueueUrl(o.url);
  const { Queue, QueueEvents } = await loadBullmq();
  const queue = new Queue(QUEUE_NAME, { connection: conn });
  const events = new QueueEvents(QUEUE_NAME, { connection: conn });
  const redis = await redisClient(conn);
  const key = studyKeyOf(study);
  const byJob = new Map<string, number>();
  const pruned = new Map<number, string>();
  const running = (n: number) => study.trials.find((t) => t.number === n)?.state === 'running';
  // Intermediate values: record, ask the pruner, raise the flag the worker polls.
  events.on('progress', ({ jobId, data }) => {
    const n = byJob.get(jobId);
    const d = data as { step?: number; value?: number };
    if (n === undefined || !running(n) || typeof d?.step !== 'number' || typeof d.value !== 'number' || pruned.has(n))
      return;
    study.report(n, d.step, d.value);
    const reason = study.shouldPrune(n);
    if (reason) {
      pruned.set(n, reason);
      o.logger.info(`trial ${n}: pruned at step ${d.step} (${reason})`);
      void redis.set(pruneKey(jobId), reason, 'EX', 86_400);
    }
  });
  let failure: Error | undefined;
  const inflight = new Map<number, Promise<void>>();
  const run = async (n: number, params: Params) => {
    const jobId = trialJobId(key, n);
    byJob.set(jobId, n);
    const data: TrialJobData = { studyKey: key, number: n, params, payload: o.payload({ number: n, params }) };
    // Same id ⇒ same job: a resumed submitter re-attaches to a trial already queued or finished.
    const job = await queue.add('trial', data, {
      jobId,
      attempts: o.attempts ?? 3,
      backoff: { type: 'exponential', delay: o.backoffMs ?? 1000 },
      removeOnComplete: { age: 7 * 86_400 },
      removeOnFail: { age: 7 * 86_400 },
    });
    let t: Trial;
    try {
      const r = (await job.waitUntilFinished(events)) as TrialJobResult;
      if (!running(n)) return; // told already (a duplicate notification): never count twice
      if ('pruned' in r || pruned.has(n)) t = study.tell(n, { state: 'pruned', message: pruned.get(n) ?? 'pruned' });
      else t = study.tell(n, r.value);
    } catch (e) {
      if (!running(n)) return;
      const msg = (e as Error).message;
      t = study.tell(n, { state: 'fail', message: msg });
      failure ??= new DistilleryError('SEARCH_TRIAL_FAILED', `trial ${n} failed on every attempt: ${msg}`, {
        where: `job ${jobId}`,
        hint: 'the job stays in the failed set with its error; fix the cause and run the search again',
      });
    }
    o.onTrial?.(t, study);
  };
  try {
    await events.waitUntilReady();
    const parallel = Math.max(1, o.parallel ?? 3);
    for (;;) {
      while (!failure && inflight.size < parallel && study.finished + inflight.size < o.nTrials) {
        const asked = study.ask('queue');
        const p = run(asked.number, asked.params).finally(() => inflight.delete(asked.number));
        inflight.set(asked.number, p);
      }
      if (!inflight.size) break;
      await Promise.race(inflight.values());
    }
    if (failure) throw failure;
    return study.best;
  } finally {
    await events.close();
    await queue.close();
    await redis.quit().catch(() => undefined);
  }
}
