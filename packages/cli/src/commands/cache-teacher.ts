/**
 * `distillery cache-teacher <config>`: precompute the teacher-output cache of a job, in this
 * process, or with `--queue <url> --shards N` as a BullMQ flow on `distillery worker` processes
 * (N shard jobs over the batch list plus a merge that writes the manifest once).
 */
import { resolve } from 'node:path';
import { DirTeacherCacheStore, DistilleryError, type Logger } from '@distillery/core';
import { type Command } from 'commander';
import {
  cacheTeacherTarget,
  configHashOf,
  precomputeTeacherCache,
  type CacheTeacherSummary,
} from '../job/cache-teacher.js';
import type { TeacherCacheJobData } from '../job/teacher-cache-shards.js';
import { loadJobConfig } from './validate.js';
import {
  action,
  commandLogger,
  commonOptions,
  writeJson,
  type CliContext,
  type CommonOptions,
  positiveInt,
} from './common.js';

/** Options of {@link cacheTeacherQueued}. */
export interface CacheTeacherQueuedOptions {
  /** The job config (made absolute: workers load the same path, on a shared folder). */
  configFile: string;
  /** `redis://host:6379`. */
  queue: string;
  /** Shard jobs to split the batch list into (a few per worker balances uneven machines). */
  shards: number;
  logger: Logger;
  /** Attempts per shard job (retried with exponential backoff). @default 3 */
  attempts?: number;
}

/** The summary of a queued fill: the in-process one plus how many shards ran. */
export type QueuedCacheTeacherSummary = CacheTeacherSummary & { shards: number };

/**
 * Fill the config's teacher cache on workers: check the config here (a bad one fails before
 * anything is queued), enqueue the flow, wait for its merge. BullMQ is loaded only now.
 */
export async function cacheTeacherQueued(o: CacheTeacherQueuedOptions): Promise<QueuedCacheTeacherSummary> {
  const configFile = resolve(o.configFile);
  const { config, text } = await loadJobConfig(configFile);
  // Fail here, before anything is queued: no cache folder, a teacher trained by distill, another dtype in the folder.
  const { dir, dtype } = cacheTeacherTarget(config);
  new DirTeacherCacheStore(dir, dtype);
  const { runShardFlow, pingQueue } = await import('@distillery/queue');
  await pingQueue(o.queue);
  const t0 = Date.now();
  // total = shards: each worker derives its batch range from the config (the submitter never loads the data).
  const r = await runShardFlow<TeacherCacheJobData, Omit<QueuedCacheTeacherSummary, 'seconds'>>({
    url: o.queue,
    kind: 'teacher-cache',
    total: o.shards,
    shards: o.shards,
    data: { configFile, configHash: configHashOf(text) },
    attempts: o.attempts,
    logger: o.logger,
    onShard: (done, of) => o.logger.info(`teacher-cache: ${done}/${of} shard(s) done`),
  });
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('cache-teacher')
    .description(
      'run the teacher once over the training examples and store its outputs in distillation.teacherCache.dir (later distill runs skip the teacher); --queue spreads it over `distillery worker` processes',
    )
    .argument('<config>', 'job config file with distillation.teacherCache.dir');
  commonOptions(cmd, { json: 'print the result as one JSON document on stdout' })
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .option(
      '--queue <url>',
      'fill the cache on `distillery worker` processes through BullMQ on this Redis (redis://host:6379); the config and the cache folder must be at the same path on every worker',
    )
    .option('--shards <n>', 'with --queue: shard jobs to split the batches into (a few per worker)', positiveInt)
    .action(
      action(ctx, async (file: string, o: CommonOptions & { progress?: boolean; queue?: string; shards?: number }) => {
        const logger = commandLogger(o);
        if (o.shards !== undefined && !o.queue) {
          throw new DistilleryError('USAGE', '--shards needs --queue', {
            where: '--shards',
            hint: 'add --queue redis://host:6379 (workers: distillery worker --queue ...), or drop --shards to fill the cache in this process',
          });
        }
        if (o.queue && o.shards === undefined) {
          throw new DistilleryError('USAGE', '--queue needs --shards N', {
            where: '--queue',
            hint: 'add --shards N, e.g. 2–4 per worker (a shard is a contiguous range of batches)',
          });
        }
        let s: CacheTeacherSummary & { shards?: number };
        if (o.queue) s = await cacheTeacherQueued({ configFile: file, queue: o.queue, shards: o.shards!, logger });
        else {
          const { config } = await loadJobConfig(file);
          s = await precomputeTeacherCache(config, { logger, progress: o.progress === false ? 'lines' : true });
        }
        if (o.json) writeJson(ctx, { ok: true, ...s });
        else
          ctx.out.write(
            `teacher cache ${s.dir} (${s.dtype}): ${s.examples} examples, ${s.computed} computed, ${s.cached} already cached, ${s.seconds.toFixed(1)} s${s.shards ? ` on ${s.shards} shard(s)` : ''}; ${s.entries} entries in the folder\n`,
          );
        return 0;
      }),
    );
}
