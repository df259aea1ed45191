/**
 * `distillery train|distill`: load data, build teacher and student, train the teacher with
 * BasicTrainer (unless pretrained), distil the student with BasicDistiller (or GeneralDistiller when
 * the config has intermediate matches), evaluate both, and write a summary.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BasicDistiller,
  BasicTrainer,
  GeneralDistiller,
  assertPluginNames,
  createRegistry,
  initBackend,
  type DistillModel,
  type Logger,
  type PluginRegistry,
  type TrainResult,
} from '@distillery/core';
import type { JobConfig } from './schema.js';
import { loadTaskData } from './data.js';
import { mlpKit, type Kit } from './kits.js';
import { bertKit } from './bert.kit.js';
import { taskKit, type TaskInfo } from './task-kits.js';
import { attachProgress } from '../progress.js';
import { lineChart, lossSeries } from '../report/svg-chart.js';

export interface ModelReport {
  accuracy: number;
  /** Task metrics besides accuracy (entity F1, regression MSE/Pearson), when the task has them. */
  metrics?: Record<string, number>;
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

function countParams(m: DistillModel<unknown>): number {
  // Frozen (pretrained) teachers have no variables: count their weights instead.
  const all = (m as { weights?: () => Readonly<Record<string, tf.Tensor>> }).weights?.() ?? m.parameters();
  return Object.values(all).reduce((n, v) => n + v.size, 0);
}

async function accuracy<B>(kit: Kit<B>, model: DistillModel<B>, batches: B[]): Promise<number> {
  let ok = 0;
  let n = 0;
  for (const b of batches) {
    const pred = kit.predict(model, b);
    const gold = kit.labelsOf(b);
    // Negative gold labels are ignored positions (token tasks: sub-words, special tokens, padding).
    for (let i = 0; i < gold.length; i++) {
      if (gold[i]! < 0) continue;
      ok += pred[i] === gold[i] ? 1 : 0;
      n++;
    }
  }
  return ok / Math.max(1, n);
}

/** Run a job. `mode: "train"` trains (and evaluates) the teacher only. */
export async function runJob(cfg: JobConfig, mode: 'train' | 'distill', opts: { logger: Logger; /** true: a bar on terminals, lines elsewhere; 'lines': always lines; false: none. */ progress?: boolean | 'lines'; configText?: string; configFile?: string }): Promise<JobSummary> {
  const log = opts.logger;
  const backend = await initBackend({ backend: cfg.training.backend, logger: log });
  const registry: PluginRegistry = await createRegistry({ plugins: cfg.plugins, logger: log });
  assertPluginNames(cfg.distillation, registry, { file: opts.configFile, text: opts.configText });
  const seed = cfg.training.seed;
  // Pair and CoNLL tasks load their own data (task-kits.ts); the others go through loadTaskData.
  const special = await taskKit(cfg);
  let kit: Kit<unknown>;
  let data: TaskInfo;
  if (special) {
    kit = special.kit as Kit<unknown>;
    data = special.info;
  } else {
    const d = loadTaskData(cfg.task.data, seed);
    data = { name: d.name, train: d.train.length, test: d.test.length, labels: d.labels.size };
    kit =
      cfg.teacher.model.type !== 'mlp' || cfg.student.model.type !== 'mlp'
        ? ((await bertKit(d, cfg)) as Kit<unknown>)
        : (mlpKit(d.train, d.test, d.labels, { features: cfg.task.features, batchSize: cfg.task.batchSize }) as Kit<unknown>);
  }
  log.info(`task: ${data.name}: ${data.train} train / ${data.test} test examples, ${data.labels} labels`);
  const evaluate = async (m: DistillModel<unknown>) => ({ accuracy: await accuracy(kit, m, test), ...(await kit.metrics?.(m)) });
  const test = kit.testBatches();
  const outDir = cfg.training.outputDir;
  mkdirSync(outDir, { recursive: true });

  const teacher = await kit.build(cfg.teacher.model, seed, 'teacher');
  let teacherSeconds: number | undefined;
  const pretrained = cfg.teacher.model.type !== 'mlp' && cfg.teacher.model.pretrained;
  if (!pretrained) {
    const tcfg = { ...(cfg.teacher.training ?? cfg.training), outputDir: join(outDir, 'teacher') };
    const trainer = new BasicTrainer({ student: teacher, adaptor: kit.adaptor, registry: registry.child(), trainingConfig: tcfg, backend });
    if (opts.progress !== false) attachProgress(trainer.events, 'teacher', process.stderr, { bar: opts.progress === 'lines' ? false : undefined });
    const r: TrainResult = await trainer.train({ dataloader: kit.trainSource(seed), evaluate: () => evaluate(teacher) });
    teacherSeconds = r.durationMs / 1000;
  }
  const teacherMetrics = await kit.metrics?.(teacher);
  const teacherReport: ModelReport = {
    accuracy: await accuracy(kit, teacher, test),
    ...(teacherMetrics ? { metrics: teacherMetrics } : {}),
    parameters: countParams(teacher),
    trainSeconds: teacherSeconds,
    source: pretrained ? `pretrained ${pretrained}` : `trained here (${cfg.teacher.model.type})`,
  };
  log.info(`teacher accuracy ${(100 * teacherReport.accuracy).toFixed(2)} % (${teacherReport.parameters.toLocaleString('en-US')} parameters)`);
  if (teacherMetrics) log.info(`teacher ${formatMetrics(teacherMetrics)}`);
  const summary: JobSummary = { task: data.name, backend, train: data.train, test: data.test, teacher: teacherReport, outputDir: outDir };

  if (mode === 'distill') {
    const student = await kit.build(cfg.student.model, seed + 1, 'student');
    const Strategy = cfg.distillation.intermediateMatches.length ? GeneralDistiller : BasicDistiller;
    const distiller = new Strategy({
      student,
      teacher: teacher as DistillModel<unknown, never>,
      adaptorS: kit.adaptor,
      adaptorT: kit.adaptor,
      registry: registry.child(),
      trainingConfig: cfg.training,
      distillationConfig: cfg.distillation,
      backend,
    });
    if (opts.progress !== false) attachProgress(distiller.events, 'student', process.stderr, { bar: opts.progress === 'lines' ? false : undefined });
    // Test accuracy at every checkpoint: the 'evaluate' event and metrics.jsonl record the curve.
    const r = await distiller.train({ dataloader: kit.trainSource(seed + 1), evaluate: () => evaluate(student) });
    const studentMetrics = await kit.metrics?.(student);
    if (studentMetrics) log.info(`student ${formatMetrics(studentMetrics)}`);
    summary.student = {
      accuracy: await accuracy(kit, student, test),
      ...(studentMetrics ? { metrics: studentMetrics } : {}),
      parameters: countParams(student),
      trainSeconds: r.durationMs / 1000,
      source: `distilled (${Strategy.name}, ${r.globalStep} steps)`,
    };
    log.info(`student accuracy ${(100 * summary.student.accuracy).toFixed(2)} % (${summary.student.parameters.toLocaleString('en-US')} parameters)`);
    student.dispose?.();
  }
  teacher.dispose?.();
  writeFileSync(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeLossPlots(outDir);
  log.debug('tensors alive at the end', { numTensors: tf.memory().numTensors });
  return summary;
}

function formatMetrics(m: Record<string, number>): string {
  return Object.entries(m).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ');
}

/** The summary as a small table. */
export function formatSummary(s: JobSummary): string {
  const row = (name: string, r: ModelReport) =>
    `${name.padEnd(8)} ${(100 * r.accuracy).toFixed(2).padStart(7)} %  ${r.parameters.toLocaleString('en-US').padStart(12)}  ${(r.trainSeconds ?? 0).toFixed(1).padStart(8)} s  ${r.source}${r.metrics ? `  (${formatMetrics(r.metrics)})` : ''}`;
  const lines = [
    `${s.task} — ${s.train} train / ${s.test} test examples — backend ${s.backend}`,
    `model    accuracy    parameters     train  source`,
    row('teacher', s.teacher),
    ...(s.student ? [row('student', s.student), `student/teacher: ${(s.student.parameters / s.teacher.parameters).toFixed(3)}x parameters, ${(100 * (s.student.accuracy - s.teacher.accuracy)).toFixed(2)} accuracy points`] : []),
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
