/**
 * Issue 14 end to end: a real redis-server on a free loopback port and 3 `distillery worker` child
 * processes. A 12-trial search runs on them with one worker SIGKILLed mid-trial: no trial is lost
 * or counted twice, and every trial's value equals the in-process search's. A sharded flow (a test
 * shard kind loaded with --handlers) survives a killed worker and equals the single-process output
 * byte for byte; SIGTERM lets a worker finish its job before it exits. Skips without redis-server
 * (fails under CI=true).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, childEnv, startWorkerProc, startedJobs, until, type WorkerProc } from './worker-procs.js';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@distillery/core';
import { redisReady, runShardFlow, startLocalRedis, type LocalRedis } from '@distillery/queue';
import { hashShardsInProcess } from '../../packages/queue/src/testing/hash-shards.js';
import { searchCommand } from '../../packages/cli/src/commands/search.js';

const repo = join(import.meta.dirname, '..', '..');
const hashHandlers = join(repo, 'packages', 'queue', 'dist', 'testing', 'hash-shards.js');
const logger = createLogger('t', { level: 'warn' });

function writeConfig(dir: string): string {
  const cfg = {
    task: {
      data: { type: 'spam-assassin', testFraction: 0.2, validationFraction: 0.2, maxExamples: 300 },
      batchSize: 32,
      features: 128,
    },
    teacher: {
      model: { type: 'mlp', hidden: [16] },
      training: { numEpochs: 2, seed: 42, optimizer: { type: 'adamw', lr: 0.01 } },
    },
    student: { model: { type: 'mlp', hidden: [4] } },
    training: {
      numEpochs: 2,
      evaluateEvery: 4,
      seed: 42,
      outputDir: join(dir, 'run'),
      backend: 'cpu',
      optimizer: { type: 'adamw', lr: 0.01 },
    },
    distillation: { temperature: 4, hardLabelWeight: 0.5 },
  };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

describe('the default path needs no Redis', () => {
  it('distillery search runs in-process with BullMQ, ioredis and @distillery/queue unloadable; --queue is what loads them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-noqueue-'));
    const file = writeConfig(dir);
    const preload = join(import.meta.dirname, 'fixtures', 'queue', 'no-queue-modules.mjs');
    const run = (extra: string[]) =>
      spawnSync(
        process.execPath,
        [
          '--import',
          preload,
          bin,
          'search',
          file,
          '--trials',
          '1',
          '--space',
          'alpha=0..1',
          '--pruner',
          'none',
          '--log-level',
          'warn',
          ...extra,
        ],
        { env: childEnv(), encoding: 'utf8' },
      );
    const plain = run([]);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/best: trial 0/);
    const queued = run(['--queue', 'redis://127.0.0.1:1']);
    expect(queued.status).toBe(1);
    expect(queued.stderr).toMatch(/queue module loaded on the default path: @distillery\/queue/);
  }, 200_000);
});

describe.skipIf(!redisReady())('distillery worker on BullMQ (real redis-server, 3 worker processes)', () => {
  let redis: LocalRedis;
  const procs: WorkerProc[] = [];
  beforeAll(async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build first`);
    redis = await startLocalRedis();
  });
  afterAll(async () => {
    for (const w of procs) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
    await redis?.stop();
  });

  it('a 12-trial search finishes with a worker SIGKILLed mid-trial; no trial lost or doubled; values equal the in-process search', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-qsearch-'));
    const file = writeConfig(dir);
    const ws = await Promise.all([0, 1, 2].map(() => startWorkerProc(redis.url)));
    procs.push(...ws);
    const space = 'alpha=0..1,temperature=1..20,lr=0.001..0.1:log';
    const args = [
      'search',
      file,
      '--queue',
      redis.url,
      '--trials',
      '12',
      '--parallel',
      '3',
      '--sampler',
      'random',
      '--pruner',
      'none',
      '--space',
      space,
      '--log-level',
      'warn',
    ];
    const search = spawn(process.execPath, [bin, ...args], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    search.stdout.on('data', (d) => (out += String(d)));
    search.stderr.on('data', (d) => (out += String(d)));
    const searchDone = new Promise<number | null>((r) => search.on('exit', (c) => r(c)));
    // Kill the first worker half a second into its first trial.
    await until(
      () => startedJobs(ws[0]!.log).length > 0,
      120_000,
      () => ws[0]!.log,
    );
    await new Promise((r) => setTimeout(r, 500));
    const killedJob = startedJobs(ws[0]!.log).at(-1)!;
    expect(ws[0]!.log).not.toContain(`job ${killedJob} (trial) done`);
    ws[0]!.proc.kill('SIGKILL');
    expect(await searchDone, out).toBe(0);
    const study = JSON.parse(readFileSync(join(dir, 'run', 'search', 'study.json'), 'utf8')) as {
      trials: { number: number; state: string; value: number; params: Record<string, number> }[];
    };
    expect(study.trials.map((t) => t.number).sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(
      study.trials.every((t) => t.state === 'complete'),
      JSON.stringify(study.trials.map((t) => t.state)),
    ).toBe(true);
    // The killed worker's trial was picked up and finished by another worker.
    expect(ws[1]!.log + ws[2]!.log).toContain(`job ${killedJob} (trial) done`);
    expect(out).toMatch(/best: trial \d+/);

    // The same 12 trials in one process (the random sampler's draws depend only on seed and number).
    const local = join(dir, 'local.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    cfg.training.outputDir = join(dir, 'local');
    writeFileSync(local, JSON.stringify(cfg));
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    const r = await searchCommand({
      config: local,
      trials: 12,
      space,
      sampler: 'random',
      pruner: 'none',
      logger,
      stdout: sink,
    });
    for (const t of r.trials) {
      const q = study.trials.find((x) => x.number === t.number)!;
      expect(q.params).toEqual(t.params);
      expect(q.value, `trial ${t.number}`).toBe(t.value);
      // Stronger than the (often tied) accuracies: the trained students are the same bytes.
      const weights = (root: string) =>
        readFileSync(join(root, 'search', `trial-${t.number}`, 'final', 'model.safetensors'));
      expect(weights(join(dir, 'run')).equals(weights(join(dir, 'local'))), `trial ${t.number} weights`).toBe(true);
    }
    for (const w of ws.slice(1)) w.proc.kill('SIGTERM');
    await Promise.all(ws.slice(1).map((w) => w.exited));
  }, 400_000);

  it('a sharded flow finishes with a worker SIGKILLed mid-shard and equals the single-process output byte for byte', async () => {
    const ws = await Promise.all([0, 1, 2].map(() => startWorkerProc(redis.url, ['--handlers', hashHandlers])));
    procs.push(...ws);
    const base = mkdtempSync(join(tmpdir(), 'distillery-qflow-'));
    const data = { dir: join(base, 'queued'), seed: 'e2e', delayMs: 100 };
    const flow = runShardFlow<typeof data, { files: number }>({
      url: redis.url,
      kind: 'hash-shards',
      total: 60,
      shards: 6,
      data,
      logger,
    });
    await until(
      () => startedJobs(ws[0]!.log).some((j) => j.includes('-shard-')),
      60_000,
      () => ws[0]!.log,
    );
    await new Promise((r) => setTimeout(r, 300));
    const killedJob = startedJobs(ws[0]!.log).at(-1)!;
    ws[0]!.proc.kill('SIGKILL');
    expect((await flow).files).toBe(60);
    expect(ws[1]!.log + ws[2]!.log).toContain(`job ${killedJob} (hash-shards:shard) done`);
    await hashShardsInProcess({ dir: join(base, 'local'), seed: 'e2e' }, 60);
    const files = readdirSync(join(base, 'local')).sort();
    expect(readdirSync(join(base, 'queued')).sort()).toEqual(files);
    for (const f of files)
      expect(readFileSync(join(base, 'queued', f)).equals(readFileSync(join(base, 'local', f))), f).toBe(true);

    // SIGTERM: the worker finishes the job it holds, then exits 0.
    const w = ws[1]!;
    const before = startedJobs(w.log).length;
    const flow2 = runShardFlow<typeof data, { files: number }>({
      url: redis.url,
      kind: 'hash-shards',
      total: 20,
      shards: 2,
      data: { ...data, dir: join(base, 'second') },
      logger,
    });
    await until(
      () => startedJobs(w.log).length > before,
      60_000,
      () => w.log,
    );
    const job = startedJobs(w.log).at(-1)!;
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.log).toContain(`job ${job} (hash-shards:shard) done`);
    expect((await flow2).files).toBe(20);
    ws[2]!.proc.kill('SIGTERM');
    await ws[2]!.exited;
  }, 200_000);
});
