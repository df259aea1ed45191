/**
 * `distillery train|distill`: load data, build teacher and student, train the teacher with
 * BasicTrainer (unless pretrained), distil the student with BasicDistiller (or GeneralDistiller when
 * the config has intermediate matches), evaluate both, and write a summary.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BasicDistiller,
  BasicTrainer,
  GeneralDistiller,
  acquireOutputLock,
  assertPluginNames,
  createRegistry,
  initBackend,
  type DistillModel,
  type Logger,
  type PluginRegistry,
  type TrainResult,
} from '@distillery/core';
import type { JobConfig } from './schema.js';
import { loadTaskData, teacherLabelsOf } from './data.js';
import { mlpKit, type Kit } from './kits.js';
import { bertKit } from './bert.kit.js';
import { RunProgress, type EvalProgress } from '../progress.js';
import { lineChart, lossSeries } from '../report/svg-chart.js';

export interface ModelReport {
  accuracy: number;
  parameters: number;
  trainSeconds?: number;
  source: string;
}

export interface JobSummary {
  task: string;
  backend: string;
  train: number;
  test: number;
  teacher: ModelReport;
  student?: ModelReport;
  outputDir: string;
}

/** All of a model's weights, frozen ones too (a pretrained teacher has no trainable parameters). */
export function countParams(m: DistillModel<unknown>): number {
  const all = (m as { weights?: () => Readonly<Record<string, { size: number }>> }).weights?.() ?? m.parameters();
  return Object.values(all).reduce((n, v) => n + v.size, 0);
}

async function accuracy<B>(kit: Kit<B>, model: DistillModel<B>, batches: B[], progress?: EvalProgress): Promise<number> {
  let ok = 0;
  let n = 0;
  try {
    for (const b of batches) {
      const pred = await kit.predict(model, b);
      const gold = kit.labelsOf(b);
      for (let i = 0; i < gold.length; i++) ok += pred[i] === gold[i] ? 1 : 0;
      n += gold.length;
      if (progress) {
        progress.tick();
        // Let the bar redraw between batches.
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    progress?.done();
  }
  return ok / Math.max(1, n);
}

/** Options of {@link runJob}. */
export interface RunJobOptions {
  logger: Logger;
  /** true: a bar on terminals, lines elsewhere; 'lines': always lines; false: none. @default false */
  progress?: boolean | 'lines';
  /** The config's text and file, for file:line positions in errors and for resolving plugin paths. */
  configText?: string;
  configFile?: string;
  /** `--allow-plugin` paths: plugin files outside the config's folder that may be loaded. @default [] */
  allowPlugins?: readonly string[];
  /** `--resume`: true = the newest checkpoint in outputDir, a string = that checkpoint. @default undefined */
  resume?: string | boolean;
  /** `--force`: resume although the config changed since the checkpoint. @default false */
  force?: boolean;
  /** `--overwrite`: clear a previous run in outputDir first. @default false */
  overwrite?: boolean;
}

/**
 * Run a job. `mode: "train"` trains (and evaluates) the teacher only. The output folder is locked
 * for the run (one run per folder; a used folder needs `overwrite`).
 */
export async function runJob(cfg: JobConfig, mode: 'train' | 'distill', opts: RunJobOptions): Promise<JobSummary> {
  const lock = acquireOutputLock(cfg.training.outputDir, { overwrite: opts.overwrite, logger: opts.logger, command: `distillery ${mode}${opts.configFile ? ` ${opts.configFile}` : ''}` });
  try {
    return await runJobLocked(cfg, mode, opts);
  } finally {
    lock.release();
  }
}

async function runJobLocked(cfg: JobConfig, mode: 'train' | 'distill', opts: RunJobOptions): Promise<JobSummary> {
  const log = opts.logger;
  const backend = await initBackend({ backend: cfg.training.backend, logger: log });
  // Plugins resolve from the config's folder (then the working directory) under the loading policy.
  const configDir = opts.configFile ? dirname(resolve(opts.configFile)) : process.cwd();
  const registry: PluginRegistry = await createRegistry({ plugins: cfg.plugins, logger: log, resolve: { configDir, allow: opts.allowPlugins ?? [] } });
  assertPluginNames(cfg.distillation, registry, { file: opts.configFile, text: opts.configText });
  const seed = cfg.training.seed;
  const data = loadTaskData(cfg.task.data, seed, { teacherLabels: teacherLabelsOf(cfg), logger: log });
  log.info(`task: ${data.name}: ${data.train.length} train / ${data.test.length} test examples, ${data.labels.size} labels`);
  const kit: Kit<unknown> =
    cfg.teacher.model.type !== 'mlp' || cfg.student.model.type !== 'mlp'
      ? ((await bertKit(data, cfg)) as Kit<unknown>)
      : (mlpKit(data.train, data.test, data.labels, { features: cfg.task.features, batchSize: cfg.task.batchSize }) as Kit<unknown>);
  const test = kit.testBatches();
  const outDir = cfg.training.outputDir;
  mkdirSync(outDir, { recursive: true });
  const progress = opts.progress === false || opts.progress === undefined ? undefined : new RunProgress(process.stderr, { bar: opts.progress === 'lines' ? false : undefined });
  // Result lines go above the bars on a terminal (so they stay), to the log otherwise.
  const say = (m: string) => (progress ? progress.log(`[distillery] ${m}`) : log.info(m));
  const evalOf = (label: string, what?: string) => progress?.evaluation(label, test.length, what);

  const teacher = await kit.build(cfg.teacher.model, seed, 'teacher');
  let teacherSeconds: number | undefined;
  const tm = cfg.teacher.model;
  const pretrained = tm.type === 'onnx' ? `ONNX ${tm.path}` : tm.type === 'bert' && tm.pretrained;
  if (!pretrained) {
    const tcfg = { ...(cfg.teacher.training ?? cfg.training), outputDir: join(outDir, 'teacher') };
    const trainer = new BasicTrainer({ student: teacher, adaptor: kit.adaptor, registry: registry.child(), trainingConfig: tcfg, backend });
    progress?.attach(trainer.events, 'teacher');
    const r: TrainResult = await trainer.train({ dataloader: kit.trainSource(seed), evaluate: async () => ({ accuracy: await accuracy(kit, teacher, test, evalOf('teacher', 'checkpoint evaluation')) }) });
    teacherSeconds = r.durationMs / 1000;
  }
  const teacherReport: ModelReport = {
    accuracy: await accuracy(kit, teacher, test, evalOf('teacher', 'evaluating the teacher')),
    parameters: countParams(teacher),
    trainSeconds: teacherSeconds,
    source: pretrained ? `pretrained ${pretrained}` : `trained here (${cfg.teacher.model.type})`,
  };
  say(`teacher accuracy ${(100 * teacherReport.accuracy).toFixed(2)} % (${teacherReport.parameters.toLocaleString('en-US')} parameters)`);
  const summary: JobSummary = { task: data.name, backend, train: data.train.length, test: data.test.length, teacher: teacherReport, outputDir: outDir };

  if (mode === 'distill') {
    const student = await kit.build(cfg.student.model, seed + 1, 'student');
    const Strategy = cfg.distillation.intermediateMatches.length ? GeneralDistiller : BasicDistiller;
    const distiller = new Strategy({
      student,
      teacher: teacher as DistillModel<unknown, never>,
      adaptorS: kit.studentAdaptor ?? kit.adaptor,
      adaptorT: kit.adaptor,
      registry: registry.child(),
      trainingConfig: cfg.training,
      distillationConfig: cfg.distillation,
      backend,
    });
    progress?.attach(distiller.events, 'student');
    // Test accuracy at every checkpoint: the 'evaluate' event and metrics.jsonl record the curve.
    const r = await distiller.train({ dataloader: kit.trainSource(seed + 1), evaluate: async () => ({ accuracy: await accuracy(kit, student, test, evalOf('student', 'checkpoint evaluation')) }) });
    summary.student = {
      accuracy: await accuracy(kit, student, test, evalOf('student', 'evaluating the student')),
      parameters: countParams(student),
      trainSeconds: r.durationMs / 1000,
      source: `distilled (${Strategy.name}, ${r.globalStep} steps)`,
    };
    say(`student accuracy ${(100 * summary.student.accuracy).toFixed(2)} % (${summary.student.parameters.toLocaleString('en-US')} parameters)`);
    student.dispose?.();
  }
  teacher.dispose?.();
  progress?.stop();
  writeFileSync(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeLossPlots(outDir);
  log.debug('tensors alive at the end', { numTensors: tf.memory().numTensors });
  return summary;
}

/** The summary as a small table. */
export function formatSummary(s: JobSummary): string {
  const row = (name: string, r: ModelReport) =>
    `${name.padEnd(8)} ${(100 * r.accuracy).toFixed(2).padStart(7)} %  ${r.parameters.toLocaleString('en-US').padStart(12)}  ${(r.trainSeconds ?? 0).toFixed(1).padStart(8)} s  ${r.source}`;
  const lines = [
    `${s.task} — ${s.train} train / ${s.test} test examples — backend ${s.backend}`,
    `model    accuracy    parameters     train  source`,
    row('teacher', s.teacher),
    ...(s.student ? [row('student', s.student), `student/teacher: ${s.teacher.parameters > 0 ? `${(s.student.parameters / s.teacher.parameters).toFixed(3)}x` : '-'} parameters, ${(100 * (s.student.accuracy - s.teacher.accuracy)).toFixed(2)} accuracy points`] : []),
    `outputs in ${s.outputDir} (summary.json, metrics.jsonl, loss.svg, checkpoints)`,
  ];
  return lines.join('\n');
}

/** `loss.svg` in each run folder (student run and teacher sub-run) from its metrics.jsonl. */
function writeLossPlots(outDir: string): void {
  for (const [dir, title] of [[outDir, 'distillation loss per step'], [join(outDir, 'teacher'), 'teacher training loss per step']] as const) {
    const file = join(dir, 'metrics.jsonl');
    if (!existsSync(file)) continue;
    const series = lossSeries(readFileSync(file, 'utf8'));
    if (series[0]!.points.length) writeFileSync(join(dir, 'loss.svg'), lineChart(series, { title, xLabel: 'optimizer step', yLabel: 'loss' }));
  }
}
