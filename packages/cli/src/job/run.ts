/**
 * `distillery train|distill`: load data, build teacher and student, train the teacher with
 * BasicTrainer (unless pretrained), distil the student with BasicDistiller (or GeneralDistiller when
 * the config has intermediate matches), evaluate both, and write a summary.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
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
import { attachProgress } from '../progress.js';
import { writeLossPlots } from '../report/loss-plots.js';
import { formatGain, runBaseline, type KdGain } from './baseline.js';

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
  /** `--baseline`: the same student trained without the teacher, and the KD gain over seeds. */
  baseline?: KdGain;
  outputDir: string;
}

function countParams(m: DistillModel<unknown>): number {
  return Object.values(m.parameters()).reduce((n, v) => n + v.size, 0);
}

async function accuracy<B>(kit: Kit<B>, model: DistillModel<B>, batches: B[]): Promise<number> {
  let ok = 0;
  let n = 0;
  for (const b of batches) {
    const pred = kit.predict(model, b);
    const gold = kit.labelsOf(b);
    for (let i = 0; i < gold.length; i++) ok += pred[i] === gold[i] ? 1 : 0;
    n += gold.length;
  }
  return ok / Math.max(1, n);
}

/** Run a job. `mode: "train"` trains (and evaluates) the teacher only. */
export async function runJob(cfg: JobConfig, mode: 'train' | 'distill', opts: { logger: Logger; /** true: a bar on terminals, lines elsewhere; 'lines': always lines; false: none. */ progress?: boolean | 'lines'; configText?: string; configFile?: string; /** Also train the student without the teacher (same init, data order, budget) over `seeds` seeds. */ baseline?: { seeds?: number }; /** Called with the student's metrics at each evaluation (search: intermediate values for pruning). */ onEvaluate?: (globalStep: number, metrics: Record<string, number>) => void | Promise<void>; /** Stop the student's training early (search: a pruned trial). */ signal?: AbortSignal }): Promise<JobSummary> {
  const log = opts.logger;
  const backend = await initBackend({ backend: cfg.training.backend, logger: log });
  const registry: PluginRegistry = await createRegistry({ plugins: cfg.plugins, logger: log });
  assertPluginNames(cfg.distillation, registry, { file: opts.configFile, text: opts.configText });
  const seed = cfg.training.seed;
  const data = loadTaskData(cfg.task.data, seed);
  log.info(`task: ${data.name}: ${data.train.length} train / ${data.test.length} test examples, ${data.labels.size} labels`);
  const kit: Kit<unknown> =
    cfg.teacher.model.type === 'bert' || cfg.student.model.type === 'bert'
      ? ((await bertKit(data, cfg)) as Kit<unknown>)
      : (mlpKit(data.train, data.test, data.labels, { features: cfg.task.features, batchSize: cfg.task.batchSize }) as Kit<unknown>);
  const test = kit.testBatches();
  const outDir = cfg.training.outputDir;
  mkdirSync(outDir, { recursive: true });

  const teacher = await kit.build(cfg.teacher.model, seed, 'teacher');
  let teacherSeconds: number | undefined;
  const pretrained = cfg.teacher.model.type === 'bert' && cfg.teacher.model.pretrained;
  if (!pretrained) {
    const tcfg = { ...(cfg.teacher.training ?? cfg.training), outputDir: join(outDir, 'teacher') };
    const trainer = new BasicTrainer({ student: teacher, adaptor: kit.adaptor, registry: registry.child(), trainingConfig: tcfg, backend });
    if (opts.progress !== false) attachProgress(trainer.events, 'teacher', process.stderr, { bar: opts.progress === 'lines' ? false : undefined });
    const r: TrainResult = await trainer.train({ dataloader: kit.trainSource(seed), evaluate: async () => ({ accuracy: await accuracy(kit, teacher, test) }) });
    teacherSeconds = r.durationMs / 1000;
  }
  const teacherReport: ModelReport = {
    accuracy: await accuracy(kit, teacher, test),
    parameters: countParams(teacher),
    trainSeconds: teacherSeconds,
    source: pretrained ? `pretrained ${pretrained}` : `trained here (${cfg.teacher.model.type})`,
  };
  log.info(`teacher accuracy ${(100 * teacherReport.accuracy).toFixed(2)} % (${teacherReport.parameters.toLocaleString('en-US')} parameters)`);
  const summary: JobSummary = { task: data.name, backend, train: data.train.length, test: data.test.length, teacher: teacherReport, outputDir: outDir };

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
    const r = await distiller.train({
      dataloader: kit.trainSource(seed + 1),
      signal: opts.signal,
      evaluate: async (gs) => {
        const m = { accuracy: await accuracy(kit, student, test) };
        await opts.onEvaluate?.(gs, m);
        return m;
      },
    });
    summary.student = {
      accuracy: await accuracy(kit, student, test),
      parameters: countParams(student),
      trainSeconds: r.durationMs / 1000,
      source: `distilled (${Strategy.name}, ${r.globalStep} steps)`,
    };
    log.info(`student accuracy ${(100 * summary.student.accuracy).toFixed(2)} % (${summary.student.parameters.toLocaleString('en-US')} parameters)`);
    student.dispose?.();
    if (opts.baseline) {
      summary.baseline = await runBaseline({ cfg, kit, teacher, registry, backend, logger: log, evaluate: (m) => accuracy(kit, m, test), firstSeed: seed + 1, firstAccuracy: summary.student.accuracy, seeds: opts.baseline.seeds, outDir: join(outDir, 'baseline') });
      log.info(`KD gain ${formatGain(summary.baseline)}`);
    }
  }
  teacher.dispose?.();
  writeFileSync(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  await writeLossPlots(outDir);
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
    ...(s.student ? [row('student', s.student), `student/teacher: ${(s.student.parameters / s.teacher.parameters).toFixed(3)}x parameters, ${(100 * (s.student.accuracy - s.teacher.accuracy)).toFixed(2)} accuracy points`] : []),
    ...(s.baseline ? [`KD gain: ${formatGain(s.baseline)}`] : []),
    `outputs in ${s.outputDir} (summary.json, metrics.jsonl, loss.svg, checkpoints)`,
  ];
  return lines.join('\n');
}
