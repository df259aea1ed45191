import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@distillery/core';
import { MedianPruner, RandomSampler, Study, parseSpace } from '@distillery/search';
import { Queue } from 'bullmq';
import { QUEUE_NAME, parseQueueUrl } from './connection.js';
import { shardRanges } from './handlers.js';
import { startWorker, type RunningWorker } from './worker.js';
import { optimizeQueued } from './trials.js';
import { runShardFlow } from './flow.js';
import { redisReady, startLocalRedis, type LocalRedis } from './redis-server.js';
import { hashShards, hashShardsInProcess } from './testing/hash-shards.js';

const logger = createLogger('t', { level: 'warn' });

describe('queue basics (no Redis)', () => {
  it('parses redis URLs and names the flag on bad ones', () => {
    expect(parseQueueUrl('redis://127.0.0.1:6380/2')).toMatchObject({
      host: '127.0.0.1',
      port: 6380,
      db: 2,
      maxRetriesPerRequest: null,
    });
    expect(parseQueueUrl('redis://h')).toMatchObject({ host: 'h', port: 6379 });
    expect(() => parseQueueUrl('localhost:6379')).toThrow(/unsupported queue URL scheme|not a Redis URL/);
    expect(() => parseQueueUrl('http://h:1')).toThrow(/only redis:\/\//);
  });
  it('splits examples into contiguous ranges covering all of them', () => {
    const r = shardRanges(10, 3);
    expect(r.map((x) => [x.start, x.end])).toEqual([
      [0, 3],
      [3, 6],
      [6, 10],
    ]);
    expect(shardRanges(2, 5)).toHaveLength(2);
  });
});

describe.skipIf(!redisReady())('BullMQ on a real redis-server', () => {
  let redis: LocalRedis;
  const workers: RunningWorker[] = [];
  beforeAll(async () => {
    redis = await startLocalRedis();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close(true)));
    await redis?.stop();
  });

  it('retries a failing job with exponential backoff and leaves it in the failed set with its error', async () => {
    const starts: number[] = [];
    workers.push(
      await startWorker({
        url: redis.url,
        logger,
        handlers: {
          jobs: {
            boom: () => {
              starts.push(Date.now());
              return Promise.reject(new Error('boom: bad input'));
            },
          },
        },
      }),
    );
    const q = new Queue(QUEUE_NAME, { connection: parseQueueUrl(redis.url) });
    const job = await q.add('boom', {}, { attempts: 3, backoff: { type: 'exponential', delay: 200 } });
    for (let i = 0; i < 100 && (await job.getState()) !== 'failed'; i++) await new Promise((r) => setTimeout(r, 100));
    const failed = await q.getJob(job.id!);
    expect(await failed!.getState()).toBe('failed');
    expect(failed!.attemptsMade).toBe(3);
    expect(failed!.failedReason).toBe('boom: bad input');
    // Exponential: the second wait (≈400 ms) is longer than the first (≈200 ms).
    expect(starts).toHaveLength(3);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(180);
    expect(starts[2]! - starts[1]!).toBeGreaterThan(starts[1]! - starts[0]!);
    expect((await q.getFailed()).map((j) => j.id)).toContain(job.id);
    await q.close();
    await workers.pop()!.close();
  });

  it('a flow of shards plus a merge equals the single-process result byte for byte', async () => {
    for (let i = 0; i < 2; i++)
      workers.push(await startWorker({ url: redis.url, logger, handlers: { shards: { 'hash-shards': hashShards } } }));
    const base = mkdtempSync(join(tmpdir(), 'distillery-flow-'));
    const data = { dir: join(base, 'queued'), seed: 'x' };
    const r = await runShardFlow<typeof data, { files: number }>({
      url: redis.url,
      kind: 'hash-shards',
      total: 23,
      shards: 4,
      data,
      logger,
    });
    expect(r.files).toBe(23);
    await hashShardsInProcess({ dir: join(base, 'local'), seed: 'x' }, 23);
    const files = readdirSync(join(base, 'local')).sort();
    expect(readdirSync(join(base, 'queued')).sort()).toEqual(files);
    for (const f of files)
      expect(readFileSync(join(base, 'queued', f)).equals(readFileSync(join(base, 'local', f)))).toBe(true);
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });

  it('runs a search on workers: sampler here, every trial told once, pruning through Redis', async () => {
    const stepsRun = new Map<number, number>();
    // Objective: value at step s = (1 - |x - 0.3|) * s / 5; a pruned trial stops at its next step.
    const trial = async (
      d: { number: number; params: { x: number } },
      ctx: { progress(p: object): Promise<void>; stopRequested(): Promise<boolean> },
    ) => {
      const v = 1 - Math.abs(d.params.x - 0.3);
      for (let s = 1; s <= 5; s++) {
        await ctx.progress({ step: s, value: (v * s) / 5 });
        await new Promise((r) => setTimeout(r, 30));
        stepsRun.set(d.number, s);
        if (await ctx.stopRequested()) return { pruned: true, step: s };
      }
      return { value: v };
    };
    for (let i = 0; i < 3; i++)
      workers.push(await startWorker({ url: redis.url, logger, handlers: { jobs: { trial } } }));
    const dir = mkdtempSync(join(tmpdir(), 'distillery-qsearch-'));
    const study = Study.create({
      space: parseSpace('x=0..1', { x: 'float' }),
      file: join(dir, 'study.json'),
      sampler: new RandomSampler(1),
      pruner: new MedianPruner({ nStartupTrials: 3 }),
    });
    const told: number[] = [];
    const best = await optimizeQueued(study, {
      url: redis.url,
      nTrials: 12,
      parallel: 3,
      logger,
      payload: () => ({}),
      onTrial: (t) => told.push(t.number),
    });
    expect(told.sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(study.trials.every((t) => t.state === 'complete' || t.state === 'pruned')).toBe(true);
    expect(study.trials.filter((t) => t.state === 'complete').length).toBeGreaterThanOrEqual(3);
    // Some trials are worse than the median early on: the pruner stops them and their worker returns early.
    const pruned = study.trials.filter((t) => t.state === 'pruned');
    expect(pruned.length).toBeGreaterThan(0);
    for (const t of pruned) expect(stepsRun.get(t.number)).toBeLessThan(5);
    for (const t of study.trials.filter((x) => x.state === 'complete'))
      expect(t.value).toBeCloseTo(1 - Math.abs(t.params.x! - 0.3), 12);
    expect(best!.value).toBe(Math.max(...study.trials.filter((t) => t.state === 'complete').map((t) => t.value!)));
    // Resumed with the same total: nothing is enqueued again.
    const again = Study.create({
      space: parseSpace('x=0..1', { x: 'float' }),
      file: join(dir, 'study.json'),
      sampler: new RandomSampler(1),
    });
    await optimizeQueued(again, { url: redis.url, nTrials: 12, logger, payload: () => ({}) });
    expect(again.trials).toHaveLength(12);
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });
});
