/**
 * Issue 11: MultiTeacherDistiller and MultiTaskDistiller run from the documented config files
 * (docs/configs/*.json), on a tiny budget; the teacher-cache example (with unlabelled texts) too.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadJobConfig, runJob, type JobConfig } from '@distillery/cli';

const ready = sharedPath('models', 'clinc-bert-teacher') && sharedPath('data', 'clinc150');
const docs = join(import.meta.dirname, '..', '..', 'docs', 'configs');
const log = createLogger('test', { level: 'warn' });

/** A documented config with a tiny budget and a temp output folder. */
async function tiny(name: string, edit: (c: JobConfig, dir: string) => void): Promise<JobConfig> {
  const { config } = await loadJobConfig(join(docs, name));
  const dir = mkdtempSync(join(tmpdir(), 'distillery-multi-'));
  config.training = { ...config.training, outputDir: join(dir, 'run') };
  edit(config, dir);
  return config;
}

const small = <T extends { type: string }>(d: T): T => ({ ...d, maxExamples: 96 });

describe.skipIf(!ready)(`every distiller from config ${ready ? '' : SHARED_SKIP_MESSAGE}`, () => {
  it('teachers: [...] with weights runs MultiTeacherDistiller', async () => {
    const cfg = await tiny('multi-teacher.json', (c) => {
      c.task = { ...c.task, data: small(c.task.data) };
      c.training = { ...c.training, numEpochs: 1 };
    });
    const s = await runJob(cfg, 'distill', { logger: log, progress: false });
    expect(s.student!.source).toContain('MultiTeacherDistiller');
    expect(s.teacher.source).toContain('2 teachers');
    expect(s.final).toBeDefined();
  });

  it('tasks: [...] with taskSamplingTemperature runs MultiTaskDistiller', async () => {
    const cfg = await tiny('multi-task.json', (c) => {
      c.tasks = c.tasks!.map((t) => ({ ...t, data: small(t.data) }));
      c.training = { ...c.training, numSteps: 8 };
    });
    const s = await runJob(cfg, 'distill', { logger: log, progress: false });
    expect(s.student!.source).toContain('MultiTaskDistiller, 8 steps');
    expect(s.tasks!.map((t) => t.name)).toEqual(['intents', 'intents-small']);
    for (const t of s.tasks!) expect(t.teacherAccuracy).toBeGreaterThan(0.5);
  });

  it('the teacher-cache example (unlabelled texts + cache folder) runs; the second run is served from the cache', async () => {
    let cacheDir = '';
    const cfg = await tiny('teacher-cache.json', (c, dir) => {
      c.task = { ...c.task, data: small(c.task.data) };
      c.training = { ...c.training, numEpochs: 1 };
      cacheDir = join(dir, 'cache');
      c.distillation = { ...c.distillation, teacherCache: { dir: cacheDir, dtype: 'float16' } };
    });
    const first = await runJob(cfg, 'distill', { logger: log, progress: false });
    expect(first.teacherCache).toMatchObject({ misses: 102, cachedBatches: 0 }); // 96 labelled + 6 unlabelled
    const second = await runJob(
      { ...cfg, training: { ...cfg.training, outputDir: cfg.training.outputDir + '2' } },
      'distill',
      { logger: log, progress: false },
    );
    expect(second.teacherCache).toMatchObject({ liveBatches: 0, misses: 0 });
  });
});
