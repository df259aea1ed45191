/**
 * The `teacher-cache` shard kind of `distillery worker`: `distillery cache-teacher --queue` as a
 * BullMQ flow. Every shard loads the same config, builds the same batch list as the in-process
 * `cache-teacher` (`openTeacherCachePass`) and fills its contiguous range of *batches* into the
 * shared store, so each example is computed in the same batch (same padding) and its entry has the
 * same bytes as on one machine. The merge seals the store once (the manifest).
 *
 * Why batch ownership: an example that occurs twice (a duplicate text) is written on one machine by
 * the first batch that holds it; a later batch finds it cached. Shards run in any order, so each
 * batch writes only the keys whose first occurrence it is, and treats every other key as present.
 */
import { hostname } from 'node:os';
import {
  DistilleryError,
  DirTeacherCacheStore,
  type Logger,
  type TeacherCacheEntry,
  type TeacherCacheStore,
} from '@distillery/core';
import type { JobContext, ShardKind, ShardRange } from '@distillery/queue';
import { shardRanges } from '@distillery/queue';
import { loadJobConfig } from '../commands/validate.js';
import { cacheTeacherTarget, configHashOf, openTeacherCachePass, type CacheTeacherSummary } from './cache-teacher.js';
import { cachedSide, jobRowsOf, openCacheStore } from './teacher-cache.js';
import type { JobConfig } from './schema.js';

/** Data of every job of a teacher-cache flow. */
export interface TeacherCacheJobData {
  /** Absolute path of the job config (the same path on every worker: a shared folder). */
  configFile: string;
  /** sha256 of the config text at submission: a worker refuses a file that changed since. */
  configHash: string;
}

/** What one shard returns (the merge sums them). */
export interface TeacherCacheShardManifest {
  shard: number;
  shards: number;
  /** The shard's batches, `[start, end)` of `of`. */
  batches: [number, number];
  of: number;
  examples: number;
  /** Examples whose outputs this attempt computed (a re-run finds the killed attempt's entries). */
  computed: number;
  cached: number;
  seconds: number;
  worker: string;
}

async function loadChecked(d: TeacherCacheJobData, where: string): Promise<JobConfig> {
  const { config, text } = await loadJobConfig(d.configFile);
  if (configHashOf(text) !== d.configHash) {
    throw new DistilleryError(
      'QUEUE_CONFIG_CHANGED',
      `${d.configFile} changed after cache-teacher --queue queued this flow: its shards would walk different batches`,
      {
        where,
        hint: 'leave the config alone while a flow runs; run distillery cache-teacher --queue again (finished entries are kept)',
      },
    );
  }
  return config;
}

// Never read: a batch whose keys are all "present" is skipped without assembling its outputs.
const ELSEWHERE: TeacherCacheEntry = { rows: [] };

/**
 * The store as one batch of a sharded fill sees it: keys first met in another batch read as
 * present, so the batch computes and writes exactly the rows it would on one machine.
 */
class BatchOwnedStore implements TeacherCacheStore {
  /** Index of the batch being filled. */
  current = -1;
  constructor(
    private readonly inner: TeacherCacheStore,
    private readonly owner: ReadonlyMap<string, number>,
  ) {}
  get description(): string {
    return this.inner.description;
  }
  has(key: string): boolean | Promise<boolean> {
    return this.owner.get(key) !== this.current || this.inner.has(key);
  }
  get(key: string): TeacherCacheEntry | undefined | Promise<TeacherCacheEntry | undefined> {
    return this.owner.get(key) !== this.current ? ELSEWHERE : this.inner.get(key);
  }
  put(key: string, entry: TeacherCacheEntry): void | Promise<void> {
    return this.inner.put(key, entry);
  }
}

/** Fill one shard's batches (of `shards` over the config's batch list) into the shared store. */
export async function fillTeacherCacheShard(
  config: JobConfig,
  r: Pick<ShardRange, 'shard' | 'shards'>,
  o: { logger: Logger; signal?: AbortSignal; progress?: (p: object) => Promise<void> },
): Promise<TeacherCacheShardManifest> {
  const log = o.logger;
  const t0 = Date.now();
  const pass = await openTeacherCachePass(config, log);
  try {
    const n = pass.batches.length;
    // The same split for every shard, derived here from the batch count (the submitter never loads the data).
    const range = shardRanges(n, r.shards)[r.shard];
    const [start, end] = range ? [range.start, range.end] : [n, n];
    const owner = new Map<string, number>();
    const store = new BatchOwnedStore(openCacheStore(config), owner);
    const side = cachedSide(pass.live, config, pass.namespace, jobRowsOf, store);
    pass.batches.forEach((b, i) => {
      for (const k of jobRowsOf(b)?.keys ?? []) {
        const key = side.keyOf(k);
        if (!owner.has(key)) owner.set(key, i);
      }
    });
    let examples = 0;
    let last = 0;
    for (let i = start; i < end; i++) {
      if (o.signal?.aborted) throw new Error('the worker stopped before the shard finished');
      store.current = i;
      await side.fill(pass.batches[i], { epoch: 0, dataIndex: i });
      examples += (pass.batches[i] as { batchSize: number }).batchSize;
      log.debug(`teacher-cache shard ${r.shard + 1}/${r.shards}: batch ${i + 1 - start}/${end - start} written`);
      if (o.progress && Date.now() - last > 1000) {
        last = Date.now();
        await o.progress({ batch: i + 1 - start, of: end - start });
      }
      await new Promise((res) => setImmediate(res));
    }
    const computed = side.stats.misses;
    const m: TeacherCacheShardManifest = {
      shard: r.shard,
      shards: r.shards,
      batches: [start, end],
      of: n,
      examples,
      computed,
      cached: examples - computed,
      seconds: (Date.now() - t0) / 1000,
      worker: `${hostname()}:${process.pid}`,
    };
    log.info(
      `teacher-cache shard ${r.shard + 1}/${r.shards}: batches ${start}–${end} of ${n} (${examples} examples): ${computed} computed, ${m.cached} cached, ${m.seconds.toFixed(1)} s`,
    );
    return m;
  } finally {
    pass.dispose();
  }
}

/** After every shard: seal the store (drop dead writers' temp files, write the manifest once) and sum up. */
export async function mergeTeacherCacheShards(
  config: JobConfig,
  manifests: readonly TeacherCacheShardManifest[],
): Promise<Omit<CacheTeacherSummary, 'seconds'> & { shards: number }> {
  const { dir, dtype } = cacheTeacherTarget(config);
  const store = openCacheStore(config);
  await store.seal?.();
  const sum = (f: (m: TeacherCacheShardManifest) => number) => manifests.reduce((s, m) => s + f(m), 0);
  return {
    dir,
    dtype,
    examples: sum((m) => m.examples),
    computed: sum((m) => m.computed),
    cached: sum((m) => m.cached),
    entries: DirTeacherCacheStore.manifest(dir)?.entries ?? 0,
    shards: manifests.length,
  };
}

/** The `teacher-cache` shard kind `distillery worker` serves. */
export const teacherCacheShards: ShardKind<TeacherCacheJobData, TeacherCacheShardManifest> = {
  shard: async (d: TeacherCacheJobData & ShardRange, ctx: JobContext) => {
    const config = await loadChecked(d, `job ${ctx.jobId}`);
    return fillTeacherCacheShard(config, d, {
      logger: ctx.logger,
      signal: ctx.signal,
      progress: (p) => ctx.progress(p),
    });
  },
  merge: async (manifests: TeacherCacheShardManifest[], d: TeacherCacheJobData, ctx: JobContext) => {
    const config = await loadChecked(d, `job ${ctx.jobId}`);
    return mergeTeacherCacheShards(config, manifests);
  },
};
