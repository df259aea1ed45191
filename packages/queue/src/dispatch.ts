/**
 * Run one BullMQ job through a {@link HandlerSet}: plain jobs by name, shard kinds as
 * `<kind>:shard` / `<kind>:merge`. Shared by the in-process worker and the sandboxed (worker
 * thread) processor.
 */
import { DistilleryError, nearest, type Logger } from '@distillery/core';
import { pruneKey } from './connection.js';
import type { HandlerSet, JobContext } from './handlers.js';

/** The part of a BullMQ job (plain or sandboxed) a handler needs. */
export interface DispatchJob {
  id?: string;
  name: string;
  data: unknown;
  attemptsMade: number;
  updateProgress(p: object): Promise<void>;
  getChildrenValues(): Promise<Record<string, unknown>>;
}

/** What dispatching needs besides the job. */
export interface DispatchEnv {
  logger: Logger;
  signal: AbortSignal;
  /** Reads a Redis key (the prune flag); undefined when absent. */
  get(key: string): Promise<string | null>;
}

/** Names a handler set serves (for errors and the worker's start line). */
export function handlerNames(h: HandlerSet): string[] {
  return [...Object.keys(h.jobs ?? {}), ...Object.keys(h.shards ?? {}).flatMap((k) => [`${k}:shard`, `${k}:merge`])];
}

/** Run `job` with the matching handler; its result becomes the job's return value. */
export async function dispatchJob(job: DispatchJob, h: HandlerSet, env: DispatchEnv): Promise<unknown> {
  const log = env.logger;
  const ctx: JobContext = {
    jobId: job.id!,
    attempt: job.attemptsMade + 1,
    logger: log,
    signal: env.signal,
    progress: (d) => job.updateProgress(d),
    stopRequested: async () => (await env.get(pruneKey(job.id!))) !== null,
  };
  log.info(`job ${job.id} (${job.name}) started, attempt ${ctx.attempt}`);
  const t0 = Date.now();
  const [kind, role] = job.name.split(':') as [string, string | undefined];
  const jobs = h.jobs ?? {};
  const shards = h.shards ?? {};
  let result: unknown;
  if (jobs[job.name]) result = await jobs[job.name]!(job.data, ctx);
  else if (role === 'shard' && shards[kind]) result = await shards[kind].shard(job.data, ctx);
  else if (role === 'merge' && shards[kind]) {
    // Children values are keyed by the child's queue key; order them by shard number.
    const values = Object.values(await job.getChildrenValues()) as { shard?: number }[];
    values.sort((a, b) => (a.shard ?? 0) - (b.shard ?? 0));
    result = await shards[kind].merge(values, job.data, ctx);
  } else {
    const known = handlerNames(h);
    const guess = nearest(job.name, known);
    throw new DistilleryError('QUEUE_UNKNOWN_JOB', `this worker has no handler for job "${job.name}"`, {
      where: `job ${job.id}`,
      hint: `${guess ? `did you mean "${guess}"? ` : ''}it serves ${known.join(', ') || 'nothing'}; start workers from the same Distillery version (and --handlers) as the submitter`,
    });
  }
  log.info(`job ${job.id} (${job.name}) done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}

/** Load handler modules (each exports `handlers` or a default {@link HandlerSet}) and merge them. */
export async function loadHandlerModules(specs: readonly string[]): Promise<HandlerSet> {
  const out: HandlerSet = { jobs: {}, shards: {} };
  for (const spec of specs) {
    const mod = (await import(spec)) as { handlers?: HandlerSet; default?: HandlerSet };
    const h = mod.handlers ?? mod.default;
    if (!h || (typeof h.jobs !== 'object' && typeof h.shards !== 'object')) {
      throw new DistilleryError('USAGE', `${spec} exports no job handlers`, {
        where: '--handlers',
        hint: 'export const handlers = { jobs: { name: async (data, ctx) => result }, shards: { kind: { shard, merge } } }',
      });
    }
    Object.assign(out.jobs!, h.jobs);
    Object.assign(out.shards!, h.shards);
  }
  return out;
}
