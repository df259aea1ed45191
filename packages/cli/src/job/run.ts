/**
 * `distillery train|distill`: load data, build teacher and student, train the teacher with
 * BasicTrainer (unless pretrained), distil the student with BasicDistiller (or GeneralDistiller when
 * the config has intermediate matches), evaluate both, and write a summary.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BasicDistiller,
  BasicTrainer,
  DistilleryError,
  GeneralDistiller,
  MultiTeacherDistiller,
  acquireOutputLock,
  assertPluginNames,
  createRegistry,
  initBackend,
  newestCheckpoint,
  stageConfigs,
  writeFileAtomic,
  type DistillModel,
  type Logger,
  type PluginRegistry,
  type TrainResult,
} from '@distillery/core';
import type { Example, LabelMap } from '@distillery/data';
import type { JobConfig } from './schema.js';
import { loadTaskData, teacherLabelsOf } from './data.js';
import { mlpKit, type Kit } from './kits.js';
import { RunProgress, type EvalProgress } from '../progress.js';
import { writeLossPlots } from '../report/loss-plots.js';
import { formatGain, runBaseline, type KdGain } from './baseline.js';
import { writeFinalFolder, type FinalReport } from './final.js';
import { taskKit } from './task-kits.js';
import { onnxTeacherFiles } from './onnx.kit.js';
import { addUnlabelled } from './unlabelled.js';
import { buildOtherTeachers, teacherFolder } from './multi-teacher.job.js';
import type { MultiTaskResult } from './multi-task.job.js';
import { innerModel } from './paired.kit.js';
import { runTasksJob, textKit } from './run-variants.js';
import { attachTeacherCache, cacheReport, jobNamespace, jobRowsOf, openCacheStore } from './teacher-cache.js';
import { checkStepMemory, weightSizes } from './memory-check.js';
import { collapseWarning, formatScore, scoreSplit } from './evaluate.js';
import { loadStageStudent, runStages } from './stages.job.js';

export interface ModelReport {
  /** Test accuracy. */
  accuracy: number;
  /** Task metrics besides accuracy (entity F1, regression MSE/Pearson), when the task has them. */
  metrics?: Record<string, number>;
  parameters: number;
  trainSeconds?: number;
  source: string;
  /** Which state of the run this is: the best checkpoint (by metricForBest on validation) or the last step. */
  selected?: FinalReport['selected'] & { stage?: { index: number; name: string } };
  /**
   * The validation split's metrics of this same model (the selected one), scored again after it was loaded:
   * directly comparable with `accuracy`/`metrics` (test), and a check that the reloaded model is the evaluated one.
   */
  validation?: Record<string, number>;
  /** Why training stopped early (early stopping). */
  stopReason?: string;
}

export interface JobSummary {
  task: string;
  backend: string;
  train: number;
  validation: number;
  test: number;
  teacher: ModelReport;
  student?: ModelReport;
  /** `--baseline`: the same student trained without the teacher, and the KD gain over seeds. */
  baseline?: KdGain;
  outputDir: string;
  /** The deployable student folder (`<outputDir>/final`); with `train`, the teacher's. */
  final?: string;
  /** Per-task results of a `tasks` (MultiTaskDistiller) job. */
  tasks?: MultiTaskResult['tasks'];
  /** Teacher-output cache use of the student run (`distillation.teacherCache`). */
  teacherCache?: { hits: number; misses: number; cachedBatches: number; liveBatches: number };
  /** Set when SIGINT/SIGTERM stopped the run: which sub-run, at which step (a checkpoint is there); in which stage of a staged run. */
  interrupted?: { run: 'teacher' | 'student'; step: number; stage?: { index: number; name: string; step: number } };
}

/** All of a model's weights, frozen ones too (a pretrained teacher has no trainable parameters). */
export function countParams(m: DistillModel<unknown>): number {
  return weightSizes(m).reduce((n, size) => n + size, 0);
}

async function accuracy<B>(
  kit: Kit<B>,
  model: DistillModel<B>,
  batches: B[],
  progress?: EvalProgress,
): Promise<number> {
  return (await scoreSplit(kit, model, batches, { progress })).metrics.accuracy!;
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
  /** `--overwrite`: clear a previous run in outputDir first. @default false */
  overwrite?: boolean;
  /** Continue: `true` from the newest complete checkpoint of each sub-run, or the student's checkpoint folder. */
  resume?: true | string;
  /** Resume even when the config differs from the checkpoint's. @default false */
  force?: boolean;
  /** Stop after the current step on SIGINT/SIGTERM (checkpoint written; a second signal exits at once). @default false */
  handleSignals?: boolean;
  /** Stop after the current step (checkpoint written) when aborted (search: a pruned trial). */
  signal?: AbortSignal;
  /** Also train the student without the teacher (same init, data order, budget) over `seeds` seeds. */
  baseline?: { seeds?: number };
  /** Called with the student's metrics at each evaluation (search: intermediate values for pruning). */
  onEvaluate?: (globalStep: number, metrics: Record<string, number>) => void | Promise<void>;
}

/**
 * Run a job. `mode: "train"` trains (and evaluates) the teacher only. The output folder is locked
 * for the run (one run per folder; a used folder needs `overwrite` or `resume`).
 */
export async function runJob(cfg: JobConfig, mode: 'train' | 'distill', opts: RunJobOptions): Promise<JobSummary> {
  const log = opts.logger;
  const lock = acquireOutputLock(cfg.training.outputDir, {
    overwrite: opts.overwrite,
    resume: !!opts.resume,
    logger: log,
    command: `distillery ${mode}${opts.configFile ? ` ${opts.configFile}` : ''}`,
  });
  const stopper = new AbortController();
  opts.signal?.addEventListener('abort', () => stopper.abort());
  const releaseSignals = opts.handleSignals ? onInterrupt(stopper, log) : () => undefined;
  try {
    return await runJobInner(cfg, mode, opts, stopper.signal);
  } finally {
    releaseSignals();
    lock.release();
  }
}

async function runJobInner(
  cfg: JobConfig,
  mode: 'train' | 'distill',
  opts: RunJobOptions,
  signal: AbortSignal,
): Promise<JobSummary> {
  const log = opts.logger;
  const backend = await initBackend({ backend: cfg.training.backend, logger: log });
  // Plugins resolve from the config's folder (then the working directory) under the loading policy.
  const configDir = opts.configFile ? dirname(resolve(opts.configFile)) : process.cwd();
  const registry: PluginRegistry = await createRegistry({
    plugins: cfg.plugins,
    logger: log,
    resolve: { configDir, allow: opts.allowPlugins ?? [] },
  });
  assertPluginNames(cfg.distillation, registry, { file: opts.configFile, text: opts.configText });
  const seed = cfg.training.seed;
  if (cfg.tasks) return runTasksJob(cfg, mode, opts, { registry, backend, signal });
  // Pair and CoNLL tasks load their own data (task-kits.ts); the others go through loadTaskData.
  const special = await taskKit(cfg);
  let kit: Kit<unknown>;
  let data: { name: string; train: number; validation: Example[]; test: number; labels: LabelMap; teacherSize: number };
  if (special) {
    kit = special.kit as Kit<unknown>;
    data = {
      name: special.info.name,
      train: special.info.train,
      validation: [],
      test: special.info.test,
      labels: special.info.labelMap,
      teacherSize: special.info.labelMap.size,
    };
  } else {
    const d = loadTaskData(cfg.task.data, seed, { teacherLabels: teacherLabelsOf(cfg), logger: log });
    addUnlabelled(cfg, d, log);
    data = {
      name: d.name,
      train: d.train.length,
      validation: d.validation,
      test: d.test.length,
      labels: d.labels,
      teacherSize: d.teacherSize,
    };
    kit =
      cfg.teacher.model.type !== 'mlp' || cfg.student.model.type !== 'mlp'
        ? await textKit(d, cfg)
        : (mlpKit(d.train, d.test, d.labels, {
            features: cfg.task.features,
            batchSize: cfg.task.batchSize,
          }) as Kit<unknown>);
  }
  log.info(
    `task: ${data.name}: ${data.train} train / ${data.validation.length} validation / ${data.test} test examples, ${data.labels.size} labels`,
  );
  const test = kit.testBatches();
  // CLINC150: in-scope accuracy and oos recall beside accuracy (its splits differ in their share of "oos").
  const oosId = cfg.task.data.type === 'clinc150' && data.labels.has('oos') ? data.labels.id('oos') : undefined;
  // Evaluation during training uses the validation split; the test split is reported at the end only.
  const validation = data.validation.length && kit.evalBatches ? kit.evalBatches(data.validation) : undefined;
  for (const [key, on] of [
    ['evaluateEvery', cfg.training.evaluateEvery],
    ['earlyStopping', cfg.training.earlyStopping],
  ] as const) {
    if (on && !validation) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        `${key} needs a validation split, and task.data "${cfg.task.data.type}" has none`,
        {
          where: `training.${key}`,
          hint: 'set task.data.validationFraction (e.g. 0.1) or task.data.validation, or use clinc150 (its val split)',
        },
      );
    }
  }
  const outDir = cfg.training.outputDir;
  mkdirSync(outDir, { recursive: true });
  const progress =
    opts.progress === false || opts.progress === undefined
      ? undefined
      : new RunProgress(process.stderr, { bar: opts.progress === 'lines' ? false : undefined });
  const hooksOf = (label: string) => (progress ? [progress.hook(label)] : []);
  // Result lines go above the bars on a terminal (so they stay), to the log otherwise.
  const say = (m: string) => (progress ? progress.log(`[distillery] ${m}`) : log.info(m));
  const evalOf = (label: string, batches: readonly unknown[], what?: string) =>
    progress?.evaluation(label, batches.length, what);
  const evalSet = validation ?? test;
  const evalWhat = validation ? 'validation' : 'checkpoint evaluation';
  const resumeIn = (dir: string, explicit?: string): string | undefined => {
    if (!opts.resume) return undefined;
    const path = explicit ?? newestCheckpoint(dir);
    log.info(path ? `resuming from ${path}` : `no checkpoint in ${dir}: starting that run from the beginning`);
    return path;
  };

  if (cfg.teachers) teacherFolder(cfg.teachers[0]!.model, 'teachers[0].model');
  const teacher = await kit.build(cfg.teacher.model, seed, 'teacher');
  const others = cfg.teachers ? await buildOtherTeachers(cfg, kit, seed) : [];
  let teacherSeconds: number | undefined;
  let teacherFinal: { steps: number; selected: FinalReport['selected'] } | undefined;
  let interrupted: { run: 'teacher' | 'student'; step: number } | undefined;
  const tm = cfg.teacher.model;
  const pretrained = tm.type === 'onnx' ? `ONNX ${tm.path}` : tm.type !== 'mlp' && tm.pretrained;
  // Before any work: the distillation step's memory when the student can be built now (its init does not
  // wait for a teacher trained here), else the teacher's training step's.
  let built: DistillModel<unknown> | undefined;
  if (mode === 'distill' && pretrained) {
    built = await kit.build(cfg.student.model, seed + 1, 'student');
    checkStepMemory(cfg, backend, built, teacher, log, 'distillation');
  }
  if (!pretrained) {
    const tcfg = { ...(cfg.teacher.training ?? cfg.training), outputDir: join(outDir, 'teacher') };
    checkStepMemory(cfg, backend, teacher, undefined, log, 'teacher training', tcfg.optimizer.type);
    const trainer = new BasicTrainer({
      student: teacher,
      adaptor: kit.adaptor,
      registry: registry.child(),
      trainingConfig: tcfg,
      backend,
    });
    const r: TrainResult = await trainer.train({
      dataloader: kit.trainSource(seed),
      hooks: hooksOf('teacher'),
      signal,
      runConfig: cfg,
      force: opts.force,
      resumeFrom: resumeIn(tcfg.outputDir),
      evaluate: async () => ({ accuracy: await accuracy(kit, teacher, evalSet, evalOf('teacher', evalSet, evalWhat)) }),
    });
    teacherSeconds = r.durationMs / 1000;
    if (r.stopReason === 'interrupted') interrupted = { run: 'teacher', step: r.globalStep };
    // `train`: the teacher is the deliverable — keep its best checkpoint and write it to final/ (the demo's teacher cache reads it).
    if (mode === 'train' && !interrupted) {
      const best = validation && r.best?.path ? r.best : undefined;
      if (best) await trainer.loadCheckpoint(best.path!);
      teacherFinal = {
        steps: r.globalStep,
        selected: best
          ? { kind: 'best', step: best.step, metric: best.metric, value: best.value, split: 'validation' }
          : { kind: 'last', step: r.globalStep },
      };
    }
  }
  const teacherScore = await scoreSplit(kit, teacher, test, {
    oosId,
    progress: evalOf('teacher', test, 'evaluating the teacher'),
  });
  const { accuracy: _ta, ...teacherSplitMetrics } = teacherScore.metrics;
  const teacherMetrics = { ...(await kit.metrics?.(teacher)), ...teacherSplitMetrics };
  const teacherReport: ModelReport = {
    accuracy: teacherScore.metrics.accuracy!,
    ...(Object.keys(teacherMetrics).length ? { metrics: teacherMetrics } : {}),
    parameters: countParams(teacher),
    trainSeconds: teacherSeconds,
    source: pretrained ? `pretrained ${pretrained}` : `trained here (${cfg.teacher.model.type})`,
  };
  if (others.length) {
    // The report's teacher is the ensemble's first member; the others' accuracies are logged.
    for (const [i, t] of others.entries())
      say(`teachers[${i + 1}] accuracy ${(100 * (await accuracy(kit, t, test))).toFixed(2)} %`);
    teacherReport.source = `${others.length + 1} teachers (first: ${teacherReport.source})`;
    teacherReport.parameters += others.reduce((n, t) => n + countParams(t), 0);
  }
  say(
    `teacher accuracy ${(100 * teacherReport.accuracy).toFixed(2)} % (${teacherReport.parameters.toLocaleString('en-US')} parameters)`,
  );
  const summary: JobSummary = {
    task: data.name,
    backend,
    train: data.train,
    validation: data.validation.length,
    test: data.test,
    teacher: teacherReport,
    outputDir: outDir,
  };
  if (teacherReport.metrics) say(`teacher ${formatMetrics(teacherReport.metrics)}`);
  if (teacherFinal) {
    summary.final = await writeFinalFolder({
      outputDir: outDir,
      student: teacher,
      labels: data.labels,
      tokenizerFiles: kit.tokenizerFiles?.(),
      maxLength: cfg.task.maxLength,
      report: {
        task: data.name,
        strategy: 'BasicTrainer',
        teacher: 'no',
        steps: teacherFinal.steps,
        selected: teacherFinal.selected,
        testAccuracy: teacherReport.accuracy,
        parameters: teacherReport.parameters,
        configFile: opts.configFile,
        distillation: 'none: trained on the labels',
      },
    });
  }

  if (mode === 'distill' && !interrupted) {
    const student = built ?? (await kit.build(cfg.student.model, seed + 1, 'student'));
    if (!built) checkStepMemory(cfg, backend, student, teacher, log, 'distillation');
    if (cfg.teachers && cfg.distillation.intermediateMatches.length) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        'MultiTeacherDistiller (teachers) distils logits only: intermediateMatches would be ignored',
        { where: 'distillation.intermediateMatches', hint: 'remove intermediateMatches, or use one teacher' },
      );
    }
    const staged = cfg.distillation.stages?.length ? cfg.distillation.stages : undefined;
    if (staged && cfg.teachers)
      throw new DistilleryError('CONFIG_INVALID', 'distillation.stages run the GeneralDistiller on one teacher', {
        where: 'distillation.stages',
        hint: 'use one teacher with stages',
      });
    const Strategy = cfg.teachers
      ? MultiTeacherDistiller
      : staged || cfg.distillation.intermediateMatches.length
        ? GeneralDistiller
        : BasicDistiller;
    const distiller = new Strategy({
      student,
      teacher: teacher as DistillModel<unknown, never>,
      teachers: [teacher, ...others] as DistillModel<unknown, never>[],
      ...(cfg.teachers?.some((t) => t.weight !== undefined)
        ? { teacherWeights: cfg.teachers.map((t) => t.weight ?? 1) }
        : {}),
      adaptorS: kit.studentAdaptor ?? kit.adaptor,
      adaptorT: kit.adaptor,
      registry: registry.child(),
      trainingConfig: cfg.training,
      distillationConfig: cfg.distillation,
      backend,
    });
    // One store for the run and its --baseline seeds: later seeds read what the first one cached.
    const cacheStore = cfg.distillation.teacherCache ? openCacheStore(cfg) : undefined;
    const cacheNs = cacheStore
      ? await jobNamespace(cfg, [teacher, ...others] as DistillModel<unknown>[], data.teacherSize)
      : undefined;
    const cache = cacheStore ? attachTeacherCache(distiller, cfg, cacheNs!, log, jobRowsOf, cacheStore) : undefined;
    // Validation accuracy (test when the task has no validation split) at every evaluation: the
    // 'evaluate' event and metrics.jsonl record the curve; the best one is kept as a checkpoint.
    const evaluateStudent = async (gs: number) => {
      const m = (await scoreSplit(kit, student, evalSet, { oosId, progress: evalOf('student', evalSet, evalWhat) }))
        .metrics;
      await opts.onEvaluate?.(gs, m);
      return m;
    };
    // Progressive distillation: one GeneralDistiller per stage on the same student (stage-<i>/ folders; see trainStages).
    const stagedRun = staged
      ? await runStages({
          stages: staged,
          outputDir: outDir,
          student,
          resume: !!opts.resume,
          makeTrainer: (stage, i, dir, freeze) => {
            const c = stageConfigs(
              { ...cfg.training, outputDir: dir },
              cfg.distillation as Record<string, unknown>,
              stage,
            );
            return new GeneralDistiller({
              student,
              teacher: teacher as DistillModel<unknown, never>,
              adaptorS: kit.studentAdaptor ?? kit.adaptor,
              adaptorT: kit.adaptor,
              registry: registry.child(),
              trainingConfig: c.training,
              distillationConfig: c.distillation,
              backend,
              freeze,
            });
          },
          train: {
            dataloader: (kit.distillSource ?? kit.trainSource)(seed + 1),
            hooks: hooksOf('student'),
            signal,
            runConfig: cfg,
            force: opts.force,
            evaluate: evaluateStudent,
          },
        })
      : undefined;
    const r = stagedRun
      ? stagedRun.result
      : await distiller.train({
          dataloader: (kit.distillSource ?? kit.trainSource)(seed + 1),
          hooks: hooksOf('student'),
          signal,
          runConfig: cfg,
          force: opts.force,
          resumeFrom: resumeIn(outDir, typeof opts.resume === 'string' ? opts.resume : undefined),
          evaluate: evaluateStudent,
        });
    if (r.stopReason === 'interrupted')
      interrupted = { run: 'student', step: r.globalStep, ...(stagedRun?.stopped ? { stage: stagedRun.stopped } : {}) };
    if (cache) {
      say(cacheReport(cache));
      summary.teacherCache = { ...cache.stats };
    }
    // The selected student: the best by metricForBest on the validation split, else the last.
    const best = validation && r.best?.path && !interrupted ? r.best : undefined;
    // A staged run's best is a stage's checkpoint: its student only (the stage's projections are not the run's).
    if (best) await (stagedRun ? loadStageStudent(student, best.path!) : distiller.loadCheckpoint(best.path!));
    const bestStage =
      best && stagedRun?.best ? { index: stagedRun.best.stage, name: stagedRun.best.stageName } : undefined;
    // The selected model on the validation split once more, after the reload: comparable with the test line below,
    // and a check that the model scored on test is the one that was selected.
    const revalidated =
      validation && !interrupted
        ? await scoreSplit(kit, student, validation, {
            oosId,
            progress: evalOf('student', validation, 'validation (selected model)'),
          })
        : undefined;
    if (best && revalidated && Math.abs(revalidated.metrics[best.metric]! - best.value) > 1e-6) {
      log.warn(
        `the reloaded best checkpoint scores validation ${best.metric} ${revalidated.metrics[best.metric]} but was selected at ${best.value}: ${best.path} is not the model that was evaluated`,
      );
    }
    const testScore = await scoreSplit(kit, student, test, {
      oosId,
      progress: evalOf('student', test, 'evaluating the student'),
    });
    const { accuracy: _sa, ...testSplitMetrics } = testScore.metrics;
    const studentMetrics = { ...(await kit.metrics?.(student)), ...testSplitMetrics };
    if (Object.keys(studentMetrics).length) say(`student ${formatMetrics(studentMetrics)}`);
    for (const [split, sc] of [
      ['validation', revalidated],
      ['test', testScore],
    ] as const) {
      const w = sc && collapseWarning('the student', split, sc, (id) => data.labels.names[id] ?? String(id));
      if (w) log.warn(w);
    }
    summary.student = {
      accuracy: testScore.metrics.accuracy!,
      ...(Object.keys(studentMetrics).length ? { metrics: studentMetrics } : {}),
      ...(revalidated ? { validation: revalidated.metrics } : {}),
      parameters: countParams(student),
      trainSeconds: r.durationMs / 1000,
      source: `distilled (${Strategy.name}, ${r.globalStep} steps${staged ? ` in ${staged.length} stages` : ''})`,
      selected: best
        ? {
            kind: 'best',
            step: best.step,
            metric: best.metric,
            value: best.value,
            split: 'validation',
            ...(bestStage ? { stage: bestStage } : {}),
          }
        : { kind: 'last', step: r.globalStep },
      ...(r.stopReason && !interrupted ? { stopReason: r.stopReason } : {}),
    };
    if (revalidated) say(`student validation (the selected model, scored again): ${formatScore(revalidated.metrics)}`);
    say(
      `student accuracy ${(100 * summary.student.accuracy).toFixed(2)} % (${summary.student.parameters.toLocaleString('en-US')} parameters)`,
    );
    if (!interrupted) {
      summary.final = await writeFinalFolder({
        outputDir: outDir,
        student: innerModel(student),
        labels: data.labels,
        tokenizerFrom: cfg.student.tokenizer
          ? cfg.student.tokenizer === 'build'
            ? undefined
            : cfg.student.tokenizer
          : tm.type === 'bert' || tm.type === 'distilbert'
            ? tm.pretrained
            : tm.type === 'onnx'
              ? onnxTeacherFiles(tm).tokenizerDir
              : undefined,
        tokenizerFiles: kit.tokenizerFiles?.(),
        maxLength: cfg.task.maxLength,
        report: {
          task: data.name,
          strategy: Strategy.name,
          teacher: teacherReport.source,
          steps: r.globalStep,
          selected: summary.student.selected!,
          testAccuracy: summary.student.accuracy,
          parameters: summary.student.parameters,
          configFile: opts.configFile,
          distillation: cfg.distillation,
        },
      });
    }
    // --baseline compares on validation too (where configurations are chosen), before the student goes.
    const firstValidationAccuracy =
      opts.baseline && validation && !interrupted ? await accuracy(kit, student, validation) : undefined;
    student.dispose?.();
    if (opts.baseline && !interrupted) {
      summary.baseline = await runBaseline({
        cfg,
        kit,
        teacher,
        registry,
        backend,
        logger: log,
        evaluate: (m) => accuracy(kit, m, test),
        firstSeed: seed + 1,
        firstAccuracy: summary.student.accuracy,
        seeds: opts.baseline.seeds,
        outDir: join(outDir, 'baseline'),
        ...(validation
          ? { evaluateValidation: (m: DistillModel<unknown>) => accuracy(kit, m, validation), firstValidationAccuracy }
          : {}),
        ...(cacheStore && !cfg.teachers
          ? {
              attachCache: (d: Pick<BasicDistiller<unknown, never>, 'useTeacherCache'>) =>
                void d.useTeacherCache({ store: cacheStore, namespace: cacheNs!, rowsOf: jobRowsOf }),
            }
          : {}),
      });
      log.info(`KD gain ${formatGain(summary.baseline)}`);
    }
  }
  teacher.dispose?.();
  for (const t of others) t.dispose?.();
  progress?.stop();
  if (interrupted) summary.interrupted = interrupted;
  await writeFileAtomic(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  await writeLossPlots(outDir);
  log.debug('tensors alive at the end', { numTensors: tf.memory().numTensors });
  return summary;
}

/** SIGINT/SIGTERM: the first stops after the current step (with a checkpoint); a second exits at once. */
function onInterrupt(stopper: AbortController, log: Logger): () => void {
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    if (++count > 1) {
      process.stderr.write(`distillery: ${sig} again: exiting now\n`);
      process.exit(130);
    }
    log.warn(
      `${sig}: stopping after the current step and writing a checkpoint (continue with --resume); ${sig} again exits at once`,
    );
    stopper.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Task metrics besides accuracy, e.g. `f1 0.8123, precision 0.8000`. */
function formatMetrics(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(', ');
}

/** The summary as a small table. */
export function formatSummary(s: JobSummary): string {
  const row = (name: string, r: ModelReport) =>
    `${name.padEnd(8)} ${(100 * r.accuracy).toFixed(2).padStart(7)} %  ${r.parameters.toLocaleString('en-US').padStart(12)}  ${(r.trainSeconds ?? 0).toFixed(1).padStart(8)} s  ${r.source}${r.metrics ? `  (${formatMetrics(r.metrics)})` : ''}`;
  const lines = [
    `${s.task} — ${s.train} train / ${s.test} test examples — backend ${s.backend}`,
    `model    accuracy    parameters     train  source`,
    row('teacher', s.teacher),
    ...(s.student
      ? [
          row('student', s.student),
          `student/teacher: ${s.teacher.parameters > 0 ? `${(s.student.parameters / s.teacher.parameters).toFixed(3)}x` : '-'} parameters, ${(100 * (s.student.accuracy - s.teacher.accuracy)).toFixed(2)} accuracy points`,
        ]
      : []),
    ...(s.student?.selected?.kind === 'best'
      ? [
          `student selected at step ${s.student.selected.step}${s.student.selected.stage ? ` of stage ${s.student.selected.stage.index + 1} ("${s.student.selected.stage.name}")` : ''} (best validation ${s.student.selected.metric} ${s.student.selected.value!.toFixed(4)})`,
        ]
      : []),
    ...(s.student?.validation
      ? [
          `student validation: ${formatScore(s.student.validation)}; test: ${formatScore({ accuracy: s.student.accuracy, ...s.student.metrics })}`,
        ]
      : []),
    ...(s.student?.stopReason ? [`stopped early: ${s.student.stopReason}`] : []),
    ...(s.interrupted
      ? [
          `INTERRUPTED during the ${s.interrupted.run} run at step ${s.interrupted.step}${s.interrupted.stage ? ` (stage ${s.interrupted.stage.index + 1}, "${s.interrupted.stage.name}", at its step ${s.interrupted.stage.step})` : ''}: a checkpoint was written; continue with \`distillery distill <config> --resume\``,
        ]
      : []),
    ...(s.baseline ? [`KD gain: ${formatGain(s.baseline)}`] : []),
    `outputs in ${s.outputDir} (summary.json, metrics.jsonl, loss.svg, checkpoint-<step>/${s.final ? ', final/' : ''})`,
  ];
  return lines.join('\n');
}
