/**
 * Issue 11's teacher-output cache through the job runner: a GeneralDistiller run (hidden + attention
 * matches, shuffled and length-bucketed batches) with `distillation.teacherCache` serves its second
 * epoch from the cache and a later run entirely from the folder, with the uncached run's losses.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, DirTeacherCacheStore, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadJobConfig, main, runJob } from '@distillery/cli';

const shared = sharedPath();
const ready = shared && sharedPath('models', 'clinc-bert-teacher') && sharedPath('data', 'clinc150');

async function run(dir: string, name: string, cache?: unknown) {
  const text = readFileSync(
    join(import.meta.dirname, 'fixtures', 'teacher-cache', 'distillery.json'),
    'utf8',
  ).replaceAll('${SHARED}', shared!);
  const cfg = JSON.parse(text);
  cfg.training.outputDir = join(dir, name);
  if (cache) cfg.distillation.teacherCache = cache;
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(cfg));
  const { config } = await loadJobConfig(file);
  const summary = await runJob(config, 'distill', { logger: createLogger('test', { level: 'warn' }), progress: false });
  const steps = readFileSync(join(dir, name, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((m) => m.type === 'step');
  return { summary, steps };
}

describe.skipIf(!ready)(`teacher-output cache from a job config ${ready ? '' : SHARED_SKIP_MESSAGE}`, () => {
  it('epoch 2 and a later run skip the teacher; losses equal the uncached run (float32), and float16 within 1e-2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-tcache-e2e-'));
    const plain = await run(dir, 'plain');
    const cacheDir = join(dir, 'cache32');
    const cold = await run(dir, 'cold', { dir: cacheDir, dtype: 'float32' });
    // 192 examples → 6 batches per epoch: epoch 1 runs the teacher, epoch 2 (reshuffled, rebucketed) is all hits.
    expect(cold.summary.teacherCache).toMatchObject({ liveBatches: 6, cachedBatches: 6 });
    expect(DirTeacherCacheStore.countEntries(cacheDir)).toBe(192);
    const warm = await run(dir, 'warm', { dir: cacheDir, dtype: 'float32' });
    expect(warm.summary.teacherCache).toMatchObject({ liveBatches: 0, cachedBatches: 12, misses: 0 });
    for (const r of [cold, warm]) {
      expect(r.steps.length).toBe(plain.steps.length);
      r.steps.forEach((s, i) => {
        for (const [k, v] of Object.entries(plain.steps[i].losses as Record<string, number>))
          expect(Math.abs(s.losses[k] - v), `${k} step ${i}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(v)));
      });
    }
    const half = await run(dir, 'half', { dir: join(dir, 'cache16'), dtype: 'float16' });
    half.steps.forEach((s, i) =>
      expect(Math.abs(s.loss - plain.steps[i].loss)).toBeLessThan(1e-2 * Math.max(1, plain.steps[i].loss)),
    );
    expect(half.summary.student!.accuracy).toBeGreaterThan(0);
  });

  it('distillery cache-teacher fills the folder from an ONNX teacher; distill then never runs the teacher', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-tcache-cmd-'));
    const cfg = JSON.parse(
      readFileSync(join(import.meta.dirname, 'fixtures', 'teacher-cache', 'distillery.json'), 'utf8').replaceAll(
        '${SHARED}',
        shared!,
      ),
    );
    cfg.teacher.model = { type: 'onnx', path: join(shared!, 'models', 'clinc-bert-teacher', 'model.onnx') };
    cfg.training.outputDir = join(dir, 'run');
    cfg.distillation.teacherCache = { dir: join(dir, 'cache'), dtype: 'float16' };
    const file = join(dir, 'distillery.json');
    writeFileSync(file, JSON.stringify(cfg));
    const out: string[] = [];
    const sink = { write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WritableStream;
    const ctx = { out: sink, err: { write: () => true } as unknown as NodeJS.WritableStream };
    expect(await main(['cache-teacher', file, '--json', '--no-progress', '--log-level', 'warn'], ctx)).toBe(0);
    const r = JSON.parse(out.join(''));
    expect(r).toMatchObject({ ok: true, examples: 192, computed: 192, cached: 0, entries: 192 });
    const { config } = await loadJobConfig(file);
    const summary = await runJob(config, 'distill', {
      logger: createLogger('test', { level: 'warn' }),
      progress: false,
    });
    expect(summary.teacherCache).toMatchObject({ liveBatches: 0, misses: 0, cachedBatches: 12 });
  });
});
