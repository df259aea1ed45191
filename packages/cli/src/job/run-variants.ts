/**
 * The job variants beside the plain one-teacher run (run.ts): the text kit with one tokenizer per
 * side (`student.tokenizer`) and the `tasks` job (MultiTaskDistiller).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DistilleryError, newestCheckpoint, writeFileAtomic, type PluginRegistry } from '@distillery/core';
import type { JobConfig } from './schema.js';
import type { Kit } from './kits.js';
import { bertKit } from './bert.kit.js';
import { runMultiTask, type MultiTaskResult } from './multi-task.job.js';
import { checkMatchesAcrossTokenizers, pairedKit } from './paired.kit.js';
import { writeLossPlots } from '../report/loss-plots.js';
import { RunProgress } from '../progress.js';
import type { JobSummary, RunJobOptions } from './run.js';

/** The BERT kit of a job: one tokenizer, or one per side when the student has its own (`student.tokenizer`). */
export async function textKit(data: Parameters<typeof bertKit>[0], cfg: JobConfig): Promise<Kit<unknown>> {
  const t = await bertKit(data, cfg);
  const own = cfg.student.tokenizer;
  if (!own) return t as Kit<unknown>;
  if (cfg.student.model.type === 'mlp')
    throw new DistilleryError('CONFIG_INVALID', 'student.tokenizer is for BERT students', {
      where: 'student.tokenizer',
      hint: 'remove it',
    });
  checkMatchesAcrossTokenizers(cfg.distillation.intermediateMatches);
  if (cfg.teachers)
    throw new DistilleryError('CONFIG_INVALID', 'student.tokenizer is not supported with several teachers yet', {
      where: 'student.tokenizer',
      hint: 'remove student.tokenizer, or use one teacher',
    });
  return pairedKit(t, await bertKit(data, cfg, { studentTokenizer: own }), cfg.task.batchSize) as Kit<unknown>;
}

/** A `tasks` job: MultiTaskDistiller over every task's data and teacher (see multi-task.job.ts). */
export async function runTasksJob(
  cfg: JobConfig,
  mode: 'train' | 'distill',
  opts: RunJobOptions,
  x: { registry: PluginRegistry; backend: string; signal: AbortSignal },
): Promise<JobSummary> {
  if (mode !== 'distill')
    throw new DistilleryError(
      'CONFIG_INVALID',
      'a "tasks" job distils (its teachers are pretrained): use distillery distill',
      { where: 'tasks', hint: "train each task's teacher with its own single-task config first" },
    );
  const log = opts.logger;
  const outDir = cfg.training.outputDir;
  mkdirSync(outDir, { recursive: true });
  const progress =
    opts.progress === false || opts.progress === undefined
      ? undefined
      : new RunProgress(process.stderr, { bar: opts.progress === 'lines' ? false : undefined });
  const say = (m: string) => (progress ? progress.log(`[distillery] ${m}`) : log.info(m));
  const resumeFrom = opts.resume
    ? typeof opts.resume === 'string'
      ? opts.resume
      : newestCheckpoint(outDir)
    : undefined;
  const r = await runMultiTask(cfg, {
    registry: x.registry.child(),
    backend: x.backend,
    log,
    hooks: progress ? [progress.hook('student')] : [],
    signal: x.signal,
    say,
    force: opts.force,
    resumeFrom,
  });
  progress?.stop();
  const mean = (f: (t: MultiTaskResult['tasks'][number]) => number) =>
    r.tasks.reduce((a, t) => a + f(t), 0) / r.tasks.length;
  const summary: JobSummary = {
    task: `multi-task: ${r.tasks.map((t) => t.name).join(', ')}`,
    backend: x.backend,
    train: r.tasks.reduce((n, t) => n + t.train, 0),
    validation: 0,
    test: r.tasks.reduce((n, t) => n + t.test, 0),
    teacher: {
      accuracy: mean((t) => t.teacherAccuracy),
      parameters: 0,
      source: `${r.tasks.length} pretrained task teachers (mean accuracy over tasks)`,
    },
    student: {
      accuracy: mean((t) => t.studentAccuracy),
      parameters: r.studentParameters,
      trainSeconds: r.trainSeconds,
      source: `distilled (MultiTaskDistiller, ${r.steps} steps; mean accuracy over tasks)`,
    },
    outputDir: outDir,
    tasks: r.tasks,
    ...(r.teacherCache ? { teacherCache: r.teacherCache } : {}),
  };
  await writeFileAtomic(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  await writeLossPlots(outDir);
  return summary;
}
