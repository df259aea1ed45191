/**
 * `npm run demo` (`distillery distill` without a config): the compression workflow in miniature on
 * the SpamAssassin corpus that installs with npm — train (or reuse) a small BERT teacher, distil a
 * smaller BERT with the GeneralDistiller, train the same student without the teacher, export the
 * student to ONNX + int8, benchmark all four, write results.json and the report. A thin
 * orchestration of public pieces: runJob, exportModel, PerformanceBenchmark, writeReport.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { initBackend, writeFileAtomic, type Logger } from '@distillery/core';
import { exportModel, createClassifier } from '@distillery/onnx';
import { PerformanceBenchmark, tfjsClassifier, modelSizeMB, type Classifier, type Runtime } from '@distillery/bench';
import { upsertResult, writeReport, type BenchRecord } from '@distillery/report';
import { loadJobConfig } from '../commands/validate.js';
import { defaultConfigPath } from '../default-config.js';
import { loadTaskData } from '../job/data.js';
import { runJob, type JobSummary } from '../job/run.js';
import type { JobConfig } from '../job/schema.js';
import { applyBudget, chooseBudget, type DemoBudget } from './budget.js';
import { teacherCacheKey } from './cache.js';
import { DEMO_LABELS, formatDemoTable } from './table.js';

/** Options of {@link runDemo}. */
export interface RunDemoOptions {
  logger: Logger;
  /** Where the table and the closing lines go. @default process.stdout */
  out?: NodeJS.WritableStream;
  /** Progress bars (true), plain lines ('lines') or none (false). @default true */
  progress?: boolean | 'lines';
  /** The job config the demo is made from. @default the embedded examples/spam-demo/distillery.json */
  configFile?: string;
  /** The demo's folder (replaced on each run, except its teacher cache). @default the config's training.outputDir */
  outputDir?: string;
  /** A fixed budget instead of the backend's choice (tests: a tiny demo). */
  budget?: Omit<DemoBudget, 'kind' | 'reason'>;
  /** Timed single-query runs per model. @default 100 */
  latencyRuns?: number;
  /** Minimum throughput measurement per model, ms. @default 500 */
  throughputMs?: number;
}

/** What the demo produced. */
export interface DemoResult {
  backend: string;
  budget: DemoBudget;
  teacherCache: { dir: string; reused: boolean };
  /** teacher, baseline, student, student int8 (results.json records). */
  records: BenchRecord[];
  distill: JobSummary;
  baseline: JobSummary;
  files: { results: string; reportHtml: string; reportSvg: string; student: string; onnx: string; int8: string };
  seconds: number;
}

/** Run the demo; prints progress on stderr and the table + file list on `out`. */
export async function runDemo(o: RunDemoOptions): Promise<DemoResult> {
  const t0 = Date.now();
  const log = o.logger;
  const out = o.out ?? process.stdout;
  const configFile = o.configFile ?? defaultConfigPath();
  const { config: cfg0, text } = await loadJobConfig(configFile, { pathsFrom: 'cwd' });
  const root = o.outputDir ?? cfg0.training.outputDir;
  const backend = await initBackend({ backend: cfg0.training.backend, logger: log });
  const budget = chooseBudget(backend, o.budget);
  log.info(`demo budget: ${budget.kind} — ${budget.reason}`);
  const cfg = applyBudget(cfg0, budget);
  mkdirSync(root, { recursive: true });
  const step = (n: number, what: string) => log.info(`[${n}/5] ${what}`);
  // Each run has its own folder and lock; the demo replaces its previous run (overwrite) — the embedded demo only.
  const jobOpts = {
    logger: log,
    progress: o.progress ?? true,
    configFile,
    configText: text,
    overwrite: true,
    handleSignals: true,
  };

  // 1. The teacher, from the cache when the same config and data made one before.
  const key = teacherCacheKey(cfg);
  const cacheDir = join(root, 'teacher-cache', key);
  const teacherDir = join(cacheDir, 'final');
  const reused = existsSync(join(teacherDir, 'model.safetensors')) && existsSync(join(cacheDir, 'summary.json'));
  if (reused)
    step(
      1,
      `teacher: reusing ${teacherDir} (cache key ${key}: a hash of the teacher config and data; delete the folder to retrain)`,
    );
  else {
    step(
      1,
      `teacher: training a ${describe(cfg.teacher.model)} BERT on the labels (cached in ${cacheDir} for the next run)`,
    );
    const t = await runJob({ ...cfg, training: { ...cfg.training, outputDir: cacheDir } }, 'train', jobOpts);
    if (t.interrupted) throw new Error('interrupted while training the teacher');
  }

  // 2. The distilled student: KD on logits + hidden and attention matches, best on validation kept.
  const fromTeacher: JobConfig = {
    ...cfg,
    teacher: { model: { type: 'bert', pretrained: teacherDir, initFromTeacher: false } },
  };
  step(
    2,
    `student: distilling a ${describe(cfg.student.model)} BERT with the GeneralDistiller (KD + ${cfg.distillation.intermediateMatches.map((m) => m.feature).join(' + ')} matches)`,
  );
  const distill = await runJob(
    { ...fromTeacher, training: { ...cfg.training, outputDir: join(root, 'student') } },
    'distill',
    jobOpts,
  );
  if (!distill.final) throw new Error('the distillation was interrupted');

  // 3. The same student (same init, data order, budget and selection) with the KD and match terms off.
  step(3, 'baseline: the same student trained on the labels only (KD weight 0, no matches), same budget');
  const noKd: JobConfig = {
    ...fromTeacher,
    training: { ...cfg.training, outputDir: join(root, 'baseline') },
    distillation: { ...cfg.distillation, kdLossWeight: 0, hardLabelWeight: 1, intermediateMatches: [] },
  };
  const baseline = await runJob(noKd, 'distill', jobOpts);
  if (!baseline.final) throw new Error('the baseline run was interrupted');

  // 4. ONNX + int8 export of the distilled student, then the four models on the test split.
  const onnxDir = join(root, 'student-onnx');
  step(4, `export: ${distill.final} → ${onnxDir} (ONNX fp32 + int8, checked against tfjs)`);
  await exportModel(distill.final, onnxDir, { format: 'onnx', quantize: 'int8' });
  const results = join(root, 'results.json');
  const test = loadTaskData(cfg.task.data, cfg.training.seed).test;
  const models: { label: string; path: string; runtime: Runtime; load: () => Promise<Classifier> }[] = [
    {
      label: DEMO_LABELS.teacher,
      path: teacherDir,
      runtime: 'tfjs',
      load: () => tfjsClassifier(teacherDir, { maxLength: cfg.task.maxLength }),
    },
    {
      label: DEMO_LABELS.baseline,
      path: baseline.final,
      runtime: 'tfjs',
      load: () => tfjsClassifier(baseline.final!, { maxLength: cfg.task.maxLength }),
    },
    {
      label: DEMO_LABELS.student,
      path: distill.final,
      runtime: 'tfjs',
      load: () => tfjsClassifier(distill.final!, { maxLength: cfg.task.maxLength }),
    },
    {
      label: DEMO_LABELS.int8,
      path: join(onnxDir, 'onnx', 'model_quantized.onnx'),
      runtime: 'onnx',
      load: () => createClassifier(onnxDir, { runtime: 'onnx', quantized: true }),
    },
  ];
  const records: BenchRecord[] = [];
  for (const [i, m] of models.entries()) {
    step(4, `benchmark ${i + 1}/4: ${m.label} (accuracy on ${test.length} test texts, size, single-query latency)`);
    const classifier = await m.load();
    try {
      const bench = new PerformanceBenchmark({
        classifier,
        examples: test,
        label: m.label,
        model: m.path,
        runtime: m.runtime,
        split: 'test',
        sizeMB: modelSizeMB(m.path, m.runtime),
        latencyRuns: o.latencyRuns,
        throughputMs: o.throughputMs ?? 500,
      });
      const { predictions: _p, ...rec } = await bench.run();
      await upsertResult(results, rec);
      records.push(rec);
    } finally {
      await classifier.dispose?.();
    }
  }

  // 5. Report, table, where everything is.
  step(5, 'report');
  const reportHtml = await writeReport({
    results,
    out: join(root, 'report.html'),
    highlight: DEMO_LABELS.int8,
    reference: DEMO_LABELS.teacher,
    latencyStat: 'p50',
  });
  const reportSvg = await writeReport({
    results,
    out: join(root, 'report.svg'),
    highlight: DEMO_LABELS.int8,
    reference: DEMO_LABELS.teacher,
    latencyStat: 'p50',
  });
  const seconds = (Date.now() - t0) / 1000;
  const files = {
    results,
    reportHtml,
    reportSvg,
    student: distill.final,
    onnx: join(onnxDir, 'onnx', 'model.onnx'),
    int8: join(onnxDir, 'onnx', 'model_quantized.onnx'),
  };
  const result: DemoResult = {
    backend,
    budget,
    teacherCache: { dir: cacheDir, reused },
    records,
    distill,
    baseline,
    files,
    seconds,
  };
  await writeFileAtomic(
    join(root, 'demo.json'),
    JSON.stringify({ backend, budget, teacherCache: result.teacherCache, files, seconds }, null, 2) + '\n',
  );
  out.write(formatDemoTable(result) + '\n');
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  out.write(
    [
      '',
      `demo finished in ${seconds.toFixed(0)} s on the ${backend} backend (budget: ${budget.kind}; teacher ${reused ? 'reused from' : 'trained, cached in'} ${rel(cacheDir)})`,
      `  table + chart: ${rel(reportHtml)}   chart: ${rel(reportSvg)}   numbers: ${rel(results)}`,
      `  distilled student (Hugging Face folder): ${rel(distill.final)}   ONNX: ${rel(files.onnx)}   int8: ${rel(files.int8)}`,
      `  runs: ${rel(join(root, 'student'))} (metrics.jsonl, loss.svg), ${rel(join(root, 'baseline'))}; the config to copy: ${rel(configFile)}`,
      `use the student: npx distillery predict --runtime onnx --model ${rel(files.int8)} --input texts.txt   (one text per line; or --model ${rel(distill.final)} for tfjs)`,
      '',
    ].join('\n'),
  );
  return result;
}

function describe(m: JobConfig['student']['model']): string {
  return m.type === 'bert' ? `${m.numHiddenLayers ?? '?'}-layer × ${m.hiddenSize ?? '?'}` : m.type;
}
