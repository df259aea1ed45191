/**
 * Issue 14, the sharded teacher cache: `distillery cache-teacher <config> --queue <url> --shards N`
 * on 3 `distillery worker` processes (a real redis-server on a free loopback port), one worker
 * SIGKILLed mid-shard, leaves a cache folder equal byte for byte (entries and manifest.json) to the
 * single-machine `distillery cache-teacher <config>`. The teacher is a tiny BERT made here, the
 * data a generated JSONL file with duplicate texts (a duplicate is written by the batch that holds
 * it first, whichever shard runs first). Without redis-server the queued test skips (fails under
 * CI=true); the shard-order test needs no Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, childEnv, startWorkerProc, startedJobs, until, type WorkerProc } from './worker-procs.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createLogger, DirTeacherCacheStore, initBackend } from '@distillery/core';
import { BertForSequenceClassification, bertConfig, saveHfModel } from '@distillery/models';
import { WordPieceTokenizer, buildWordPieceVocab, wordPieceTokenizerFiles } from '@distillery/data';
import { redisReady, startLocalRedis, type LocalRedis } from '@distillery/queue';
import { loadJobConfig, main } from '@distillery/cli';
import {
  fillTeacherCacheShard,
  mergeTeacherCacheShards,
  teacherCacheShards,
} from '../../packages/cli/src/job/teacher-cache-shards.js';
import { configHashOf } from '../../packages/cli/src/job/cache-teacher.js';

const logger = createLogger('t', { level: 'warn' });

/** 200 texts of 2–24 words (so batches pad differently), 16 of them repeated later in the file. */
function texts(): { text: string; label: string }[] {
  const words =
    'alpha beta gamma delta eps zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon'.split(' ');
  let s = 12345;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const rows = Array.from({ length: 184 }, (_, i) => {
    const n = 2 + Math.floor(rand() * 23);
    const text = Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(' ');
    return { text: `${text} ${i % 7}`, label: rand() < 0.5 ? 'neg' : 'pos' };
  });
  for (let i = 0; i < 16; i++) rows.push({ ...rows[i * 11]! });
  return rows;
}

/** A tiny BERT teacher folder (config, safetensors, WordPiece vocab) and a job config that caches it. */
async function fixture(dir: string): Promise<{ file: string; cache: string }> {
  await initBackend({ backend: 'cpu', logger });
  const rows = texts();
  const tok = new WordPieceTokenizer(
    buildWordPieceVocab(
      rows.map((r) => r.text),
      { minFreq: 1 },
    ),
    { maxLength: 32 },
  );
  const teacherDir = join(dir, 'teacher');
  const m = new BertForSequenceClassification(
    bertConfig({
      vocabSize: tok.vocabSize,
      hiddenSize: 32,
      numHiddenLayers: 2,
      numAttentionHeads: 2,
      intermediateSize: 64,
      maxPositionEmbeddings: 32,
      id2label: ['neg', 'pos'],
    }),
    { seed: 7 },
  );
  await saveHfModel(m, teacherDir, { tokenizerFiles: wordPieceTokenizerFiles(tok) });
  m.dispose();
  writeFileSync(join(dir, 'train.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const cache = join(dir, 'cache');
  const cfg = {
    task: {
      data: { type: 'jsonl', train: 'train.jsonl', testFraction: 0.1, validationFraction: 0 },
      batchSize: 4,
      maxLength: 32,
    },
    teacher: { model: { type: 'bert', pretrained: 'teacher' } },
    student: { model: { type: 'bert', numHiddenLayers: 1 } },
    training: { numEpochs: 1, seed: 42, outputDir: 'run', backend: 'cpu', optimizer: { type: 'adamw', lr: 0.001 } },
    // A hidden-state match: the entries hold a feature besides the logits and masks.
    distillation: {
      temperature: 4,
      hardLabelWeight: 0.5,
      intermediateMatches: [{ layerT: 2, layerS: 1, feature: 'hidden', loss: 'hidden_mse', weight: 1 }],
      teacherCache: { dir: 'cache', dtype: 'float16' },
    },
  };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return { file, cache };
}

/** A copy of `config.json` whose cache folder is `name` (same teacher and data). */
function withCache(file: string, name: string): { file: string; cache: string } {
  const cfg = JSON.parse(readFileSync(file, 'utf8'));
  cfg.distillation.teacherCache.dir = name;
  const out = file.replace(/config\.json$/, `config-${name}.json`);
  writeFileSync(out, JSON.stringify(cfg, null, 2));
  return { file: out, cache: join(file, '..', name) };
}

/** Every file under `dir` (relative path → bytes). */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

function expectSameTree(a: string, b: string): void {
  const ta = tree(a);
  const tb = tree(b);
  expect([...tb.keys()].sort()).toEqual([...ta.keys()].sort());
  for (const [k, v] of ta) expect(tb.get(k)!.equals(v), k).toBe(true);
}

/** The single-machine `distillery cache-teacher <config>` (the reference), with the queue modules unloadable: the default path never needs them. */
async function cacheTeacherLocal(file: string): Promise<{ examples: number; entries: number; computed: number }> {
  const preload = join(import.meta.dirname, 'fixtures', 'queue', 'no-queue-modules.mjs');
  const proc = spawn(
    process.execPath,
    ['--import', preload, bin, 'cache-teacher', file, '--json', '--no-progress', '--log-level', 'warn'],
    { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += String(d)));
  proc.stderr.on('data', (d) => (err += String(d)));
  const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  expect(code, err).toBe(0);
  return JSON.parse(out);
}

describe('teacher-cache shards without Redis', () => {
  it('shards filled in reverse order, then merged, equal the single-process folder byte for byte (duplicates written by their first batch)', async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build first`);
    const dir = mkdtempSync(join(tmpdir(), 'distillery-tcshards-'));
    const { file, cache } = await fixture(dir);
    const local = await cacheTeacherLocal(file);
    expect(local.examples).toBe(180); // 200 rows, 10 % held out for test
    expect(local.entries).toBeLessThan(local.examples); // duplicates share an entry
    const sharded = withCache(file, 'sharded');
    const { config } = await loadJobConfig(sharded.file);
    const before = tf.memory().numTensors;
    const manifests = [];
    for (const shard of [4, 3, 2, 1, 0])
      manifests.unshift(await fillTeacherCacheShard(config, { shard, shards: 5 }, { logger }));
    expect(tf.memory().numTensors).toBe(before);
    expect(existsSync(join(sharded.cache, 'manifest.json'))).toBe(false); // shards never write it
    const merged = await mergeTeacherCacheShards(config, manifests);
    expect(merged).toMatchObject({ examples: 180, entries: local.entries, shards: 5 });
    expect(merged.computed).toBe(local.computed);
    expectSameTree(cache, sharded.cache);
    expect(DirTeacherCacheStore.manifest(sharded.cache)).toEqual({
      format: 'distillery-teacher-cache',
      version: 1,
      dtype: 'float16',
      entries: local.entries,
    });
    // Each batch writes the keys it holds first, whatever order the shards run in: forward order
    // computes the same examples per shard as reverse order (a duplicate is never computed by a later shard).
    const forward = withCache(file, 'forward');
    const fwd = [];
    for (const shard of [0, 1, 2, 3, 4])
      fwd.push(
        await fillTeacherCacheShard((await loadJobConfig(forward.file)).config, { shard, shards: 5 }, { logger }),
      );
    expect(manifests.map((m) => m.computed)).toEqual(fwd.map((m) => m.computed));
  }, 120_000);
});

describe('cache-teacher --queue: bad command lines fail before anything is queued', () => {
  const run = async (args: string[]) => {
    let err = '';
    const sink = { write: (x: string) => ((err += x), true) } as unknown as NodeJS.WritableStream;
    const code = await main(['cache-teacher', ...args, '--log-level', 'warn'], { out: sink, err: sink });
    return { code, err };
  };
  it('names the missing flag, the config field, the dtype clash, an unreachable Redis; a worker refuses a changed config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-tcargs-'));
    const file = join(dir, 'config.json');
    const cfg = {
      task: { data: { type: 'spam-assassin', maxExamples: 40 }, batchSize: 8, features: 64 },
      teacher: { model: { type: 'mlp', hidden: [4] } },
      student: { model: { type: 'mlp' } },
      training: { numEpochs: 1, outputDir: 'run', backend: 'cpu' },
      distillation: { teacherCache: { dir: 'cache', dtype: 'float16' } },
    };
    writeFileSync(file, JSON.stringify(cfg));
    expect(await run([file, '--shards', '3'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/--shards: --shards needs --queue/),
    });
    expect(await run([file, '--queue', 'redis://127.0.0.1:1'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/--queue: --queue needs --shards N/),
    });
    expect(await run([file, '--queue', 'redis://127.0.0.1:1', '--shards', '0'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/expected a positive integer/),
    });
    // An MLP teacher is trained by distill itself: refused before Redis is even contacted.
    expect(await run([file, '--queue', 'redis://127.0.0.1:1', '--shards', '2'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/teacher\.model: cache-teacher needs a teacher that exists before the run/),
    });
    const { file: good, cache } = await fixture(mkdtempSync(join(tmpdir(), 'distillery-tcargs-')));
    expect(await run([good, '--queue', 'redis://127.0.0.1:1', '--shards', '2'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/QUEUE_UNREACHABLE|cannot reach Redis at redis:\/\/127\.0\.0\.1:1/),
    });
    mkdirSync(cache, { recursive: true });
    writeFileSync(
      join(cache, 'manifest.json'),
      JSON.stringify({ format: 'distillery-teacher-cache', version: 1, dtype: 'float32', entries: 0 }),
    );
    expect(await run([good, '--queue', 'redis://127.0.0.1:1', '--shards', '2'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/holds float32 entries, but the config asks for float16/),
    });
    // A worker refuses a config whose text changed since the flow was queued (its batches could differ).
    const ctx = {
      jobId: 'f-shard-0',
      attempt: 1,
      logger,
      signal: new AbortController().signal,
      progress: () => Promise.resolve(),
      stopRequested: () => Promise.resolve(false),
    };
    const stale = {
      configFile: good,
      configHash: configHashOf(readFileSync(good, 'utf8') + ' '),
      shard: 0,
      shards: 2,
      start: 0,
      end: 1,
      total: 2,
    };
    await expect(teacherCacheShards.shard(stale, ctx)).rejects.toMatchObject({
      code: 'QUEUE_CONFIG_CHANGED',
      where: 'job f-shard-0',
    });
  }, 60_000);
});

describe.skipIf(!redisReady())('distillery cache-teacher --queue (real redis-server, 3 worker processes)', () => {
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

  it('a worker SIGKILLed mid-shard: its shard is re-run elsewhere and the folder equals the single-machine cache byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-tcqueue-'));
    const { file, cache } = await fixture(dir);
    const queued = withCache(file, 'queued');
    // Worker 0 logs each written batch (debug), so the test can kill it between two of them.
    // The reference runs while the workers start (independent processes).
    const [local, ws] = await Promise.all([
      cacheTeacherLocal(file),
      Promise.all([['--log-level', 'debug'], [], []].map((extra) => startWorkerProc(redis.url, extra))),
    ]);
    procs.push(...ws);
    const t0 = Date.now();
    const sub = spawn(
      process.execPath,
      [bin, 'cache-teacher', queued.file, '--queue', redis.url, '--shards', '6', '--json', '--log-level', 'warn'],
      { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    sub.stdout.on('data', (d) => (out += String(d)));
    sub.stderr.on('data', (d) => (err += String(d)));
    const done = new Promise<number | null>((r) => sub.on('exit', (c) => r(c)));
    const batchLine = /teacher-cache shard \d+\/6: batch 1\//;
    await until(
      () => batchLine.test(ws[0]!.log),
      120_000,
      () => ws[0]!.log,
    );
    const killedJob = startedJobs(ws[0]!.log).at(-1)!;
    expect(killedJob).toMatch(/-shard-/);
    expect(ws[0]!.log).not.toContain(`job ${killedJob} (teacher-cache:shard) done`);
    ws[0]!.proc.kill('SIGKILL');
    expect(await done, out + err).toBe(0);
    const seconds = (Date.now() - t0) / 1000;
    const r = JSON.parse(out);
    expect(r).toMatchObject({ ok: true, examples: 180, entries: local.entries, shards: 6 });
    expect(r.computed + r.cached).toBe(180);
    // The killed worker's shard was finished by another worker.
    expect(ws[1]!.log + ws[2]!.log).toContain(`job ${killedJob} (teacher-cache:shard) done`);
    expectSameTree(cache, queued.cache);
    console.log(
      `[queue-teacher-cache] 6 shards on 3 workers (one SIGKILLed) in ${seconds.toFixed(1)} s; ${local.entries} entries equal byte for byte`,
    );
    for (const w of ws.slice(1)) w.proc.kill('SIGTERM');
    expect(await Promise.all(ws.slice(1).map((w) => w.exited))).toEqual([0, 0]);
  }, 300_000);
});
