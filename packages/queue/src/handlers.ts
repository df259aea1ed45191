/**
 * What a worker runs: handlers by job name. The queue package knows no training code; the CLI
 * registers `trial` (a search trial through runJob) and shard kinds (teacher-cache shards), and
 * `distillery worker --handlers <module>` can add more.
 */
import type { Logger } from '@distillery/core';

/** What a handler sees of its job. */
export interface JobContext {
  readonly jobId: string;
  /** 1 on the first attempt, 2 on the first retry, … */
  readonly attempt: number;
  readonly logger: Logger;
  /** Aborted when the worker shuts down hard (a second SIGTERM). */
  readonly signal: AbortSignal;
  /** Publish progress (e.g. an intermediate search value) to the submitter. */
  progress(data: object): Promise<void>;
  /** Whether the submitter asked this job to stop early (a pruned trial). */
  stopRequested(): Promise<boolean>;
}

/** A job handler: data in, a JSON-serialisable result out (stored as the job's return value). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- job data is whatever its submitter sent (JSON)
export type JobHandler = (data: any, ctx: JobContext) => Promise<unknown>;

/**
 * A shard kind for {@link enqueueShardFlow}: `shard` computes one range of examples into the
 * shared store and returns its manifest; `merge` (the flow's parent) gets every shard's manifest.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- defaults let a HandlerSet hold kinds of any data
export interface ShardKind<D = any, M = any, R = any> {
  shard(data: D & ShardRange, ctx: JobContext): Promise<M>;
  merge(manifests: M[], data: D, ctx: JobContext): Promise<R>;
}

/** One shard's slice of the examples: `[start, end)` of `total`. */
export interface ShardRange {
  shard: number;
  shards: number;
  start: number;
  end: number;
  total: number;
}

/** Handlers a worker serves: plain jobs and shard kinds (run as `<kind>:shard` / `<kind>:merge`). */
export interface HandlerSet {
  jobs?: Record<string, JobHandler>;
  shards?: Record<string, ShardKind>;
}

/** Split `total` examples into `shards` contiguous ranges whose sizes differ by at most one. */
export function shardRanges(total: number, shards: number): ShardRange[] {
  const n = Math.max(1, Math.min(shards, Math.max(1, total)));
  const out: ShardRange[] = [];
  for (let i = 0; i < n; i++)
    out.push({
      shard: i,
      shards: n,
      start: Math.floor((i * total) / n),
      end: Math.floor(((i + 1) * total) / n),
      total,
    });
  return out;
}
