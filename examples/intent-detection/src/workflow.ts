/**
 * The compression workflow on CLINC150, each step the call its `distillery` command makes:
 *
 *   1. bench the teacher                      distillery bench --model <teacher> --data <config> --label teacher
 *   2. distil + no-KD baseline over seeds     distillery distill <config> --baseline --seeds N
 *   3. bench the distilled and no-KD students distillery bench --model <student> ...
 *   4. search α, T, epochs (TPE + pruning)    distillery search <config> --trials N --space ...
 *   5. retrain with the best values, bench    distillery distill <config>.best.json; distillery bench ...
 *   6. int8 ONNX of the distilled student     distillery export --model <student> --out <dir> --quantize int8
 *      and its bench in ONNX Runtime          distillery bench --model <dir>/onnx/model_quantized.onnx --runtime onnx --label "student (int8)"
 *   7. chart and table                        distillery report results.json --out report.html
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DistilleryError, createLogger, writeFileAtomicSync, type Logger } from '@distillery/core';
import {
  JobConfigSchema,
  benchCommand,
  exportCommand,
  loadJobConfig,
  reportCommand,
  runJob,
  searchCommand,
  type JobSummary,
  type KdGain,
} from '@distillery/cli';
import { readResults, tradeoffMarkdown, type ResultsFile } from '@distillery/report';
import { exportStudent } from './export.js';

/** Options of {@link runWorkflow}. */
export interface WorkflowOptions {
  teacherDir: string;
  dataDir: string;
  /** Where everything goes (configs, runs, students, results.json, report). */
  workDir: string;
  /** Use only N train and N test examples (quick runs; the same subset in every step). */
  maxExamples?: number;
  /** Distillation epochs before the search. @default 4 (the config's) */
  numEpochs?: number;
  /** Seeds of the KD-vs-no-KD comparison. @default 3 */
  seeds?: number;
  /** Search trials. @default 8 */
  trials?: number;
  /** @default "alpha=0..1,temperature=1..20,numEpochs=2..4" */
  space?: string;
  /** Timed single-query runs per bench. @default 100 */
  latencyRuns?: number;
  /** Minimum time of each throughput measurement, ms. @default 2000 */
  throughputMs?: number;
  logger?: Logger;
}

/** What the workflow produced. */
export interface WorkflowResult {
  results: ResultsFile;
  resultsFile: string;
  reportHtml: string;
  reportSvg: string;
  distilled: JobSummary;
  gain: KdGain;
  best: { params: Record<string, number>; value: number; configFile: string };
  /** The int8 ONNX file of the distilled student (step 6). */
  int8File: string;
}

/** The example config with the paths (and reductions) filled in, written to `<workDir>/distillery.json`. */
export function writeWorkflowConfig(o: WorkflowOptions): string {
  // Only the fields filled in here are typed; JobConfigSchema.parse below checks the whole file.
  const raw = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'distillery.json'), 'utf8')) as {
    task: { data: { dir: string; maxExamples?: number } };
    teacher: { model: { pretrained: string } };
    training: { outputDir: string; numEpochs?: number };
  };
  raw.task.data.dir = resolve(o.dataDir);
  if (o.maxExamples) raw.task.data.maxExamples = o.maxExamples;
  raw.teacher.model.pretrained = resolve(o.teacherDir);
  raw.training.outputDir = join(resolve(o.workDir), 'distil');
  if (o.numEpochs) raw.training.numEpochs = o.numEpochs;
  JobConfigSchema.parse(raw); // fail here, naming the field, rather than in step 2
  mkdirSync(o.workDir, { recursive: true });
  const file = join(o.workDir, 'distillery.json');
  writeFileAtomicSync(file, JSON.stringify(raw, null, 2) + '\n');
  return file;
}

export async function runWorkflow(o: WorkflowOptions): Promise<WorkflowResult> {
  const log = o.logger ?? createLogger('intent-detection');
  const work = resolve(o.workDir);
  const configFile = writeWorkflowConfig(o);
  const resultsFile = join(work, 'results.json');
  const bench = (model: string, label: string, data = configFile, runtime = 'tfjs') =>
    benchCommand({
      model,
      data,
      split: 'test',
      runtime,
      label,
      results: resultsFile,
      runs: o.latencyRuns ?? 100,
      throughputMs: o.throughputMs,
      out: { write: (s: string) => (log.info(s.trimEnd()), true) } as unknown as NodeJS.WritableStream,
    });

  log.info('1/7 bench the teacher');
  await bench(o.teacherDir, 'teacher');

  log.info(`2/7 distil, and train the same student without the teacher over ${o.seeds ?? 3} seeds`);
  const { config, text } = await loadJobConfig(configFile);
  const distilled = await runJob(config, 'distill', {
    logger: log,
    progress: 'lines',
    configFile,
    configText: text,
    baseline: { seeds: o.seeds ?? 3 },
  });
  const gain = distilled.baseline!;

  log.info('3/7 bench the distilled and the no-KD student (first seed)');
  const runDir = config.training.outputDir;
  await bench(
    await exportStudent(config, join(runDir, 'baseline', `nokd-seed${gain.seeds[0]}`), join(work, 'students', 'nokd')),
    'student (no KD)',
  );
  const kdDir = await exportStudent(config, runDir, join(work, 'students', 'kd'));
  await bench(kdDir, 'student (KD)');

  log.info(`4/7 search ${o.space ?? 'alpha=0..1,temperature=1..20,numEpochs=2..4'} (${o.trials ?? 8} trials)`);
  const s = await searchCommand({
    config: configFile,
    trials: o.trials ?? 8,
    space: o.space ?? 'alpha=0..1,temperature=1..20,numEpochs=2..4',
    logger: log,
    stdout: { write: (x: string) => (log.info(x.trimEnd()), true) } as unknown as NodeJS.WritableStream,
  });

  log.info('5/7 retrain with the best values and bench it');
  const best = await loadJobConfig(s.configFile);
  best.config.training.outputDir = join(work, 'searched');
  await runJob(best.config, 'distill', {
    logger: log,
    progress: 'lines',
    configFile: s.configFile,
    configText: best.text,
  });
  await bench(
    await exportStudent(best.config, best.config.training.outputDir, join(work, 'students', 'searched')),
    'student (searched)',
  );

  log.info('6/7 export the distilled student to ONNX + int8 and bench it in ONNX Runtime');
  // The export loads each graph back in ORT and compares it with the tfjs student before it returns.
  const exported = await exportCommand({
    model: kdDir,
    out: join(work, 'students', 'kd-onnx'),
    quantize: 'int8',
    quiet: true,
  });
  const int8File = exported.files.find((f) => f.kind === 'int8')?.path;
  if (!int8File)
    throw new DistilleryError('FILE_NOT_FOUND', 'the export wrote no int8 graph', {
      where: join(work, 'students', 'kd-onnx'),
    });
  await bench(int8File, 'student (int8)', configFile, 'onnx');

  log.info('7/7 report');
  const summary = join(runDir, 'summary.json');
  const reportHtml = await reportCommand({
    results: resultsFile,
    out: join(work, 'report.html'),
    highlight: 'student (searched)',
    latency: 'p50',
    summaries: [summary],
  });
  const reportSvg = await reportCommand({
    results: resultsFile,
    out: join(work, 'report.svg'),
    highlight: 'student (searched)',
    latency: 'p50',
  });
  const results = readResults(resultsFile);
  log.info(`results (${resultsFile}):\n${tradeoffMarkdown(results)}`);
  return {
    results,
    resultsFile,
    reportHtml,
    reportSvg,
    distilled,
    gain,
    best: { params: s.best.params, value: s.best.value!, configFile: s.configFile },
    int8File,
  };
}
