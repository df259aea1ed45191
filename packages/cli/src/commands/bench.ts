/**
 * `distillery bench --model <hf-dir|model.onnx> --data <config|data dir|file> [--split test]
 * [--runtime tfjs|onnx] [--label name] [--results results.json] [--json]`: accuracy, size, latency
 * and throughput of one model (PerformanceBenchmark), added to results.json under its label.
 * @packageDocumentation
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { DistilleryError, initBackend, nearest } from '@distillery/core';
import { loadClinc150, loadDataset, type Example } from '@distillery/data';
import { PerformanceBenchmark, formatBenchRecord, loadClassifier, modelSizeMB, type Runtime } from '@distillery/bench';
import { upsertResult, type BenchRecord } from '@distillery/report';
import { loadJobConfig } from './validate.js';
import { loadTaskData } from '../job/data.js';
import { Option, type Command } from 'commander';
import { action, commonOptions, type CliContext, type CommonOptions, positiveInt } from './common.js';

/** Options of {@link benchCommand}. */
export interface BenchCommandOptions {
  model: string;
  /** A job config (its task data and seed: the same split the run evaluated), a CLINC150 folder, or a labelled data file. */
  data: string;
  /** @default "test" */
  split?: string;
  /** @default "tfjs" (or "onnx" for a .onnx file) */
  runtime?: string;
  /** @default the model folder's name */
  label?: string;
  /** results.json to add the record to. */
  results?: string;
  /** Timed single-query runs. @default 100 */
  runs?: number;
  /** Minimum time of the throughput measurement, ms. @default 2000 */
  throughputMs?: number;
  /** Print the record as JSON instead of a line. */
  json?: boolean;
  out?: NodeJS.WritableStream;
}

const SPLITS = ['train', 'validation', 'test'] as const;
type Split = (typeof SPLITS)[number];

/** Labelled examples of a split, and the token limit the training run used (when a config is given). */
export async function benchExamples(data: string, split: string): Promise<{ examples: Example[]; maxLength?: number }> {
  if (!SPLITS.includes(split as Split)) {
    throw new DistilleryError('USAGE', `unknown split "${split}"`, {
      where: '--split',
      hint: `${nearest(split, SPLITS) ? `did you mean "${nearest(split, SPLITS)}"? ` : ''}splits: ${SPLITS.join(', ')}`,
    });
  }
  if (!existsSync(data))
    throw new DistilleryError('FILE_NOT_FOUND', 'data not found', {
      where: data,
      hint: '--data takes a job config, a CLINC150 folder or a labelled .jsonl/.csv/.tsv file',
    });
  if (statSync(data).isDirectory()) {
    if (!existsSync(join(data, 'data_oos_plus.json')))
      throw new DistilleryError('DATA_FORMAT', 'a data folder must hold CLINC150 (data_oos_plus.json)', {
        where: data,
        hint: 'or pass a job config / a .jsonl file',
      });
    return { examples: loadClinc150(data)[split as Split] };
  }
  if (extname(data).toLowerCase() === '.json' && 'task' in (JSON.parse(readFileSync(data, 'utf8')) as object)) {
    const { config } = await loadJobConfig(data);
    const d = config.task.data;
    if (split === 'validation') {
      if (d.type !== 'clinc150')
        throw new DistilleryError('USAGE', `the config's ${d.type} data has no validation split`, {
          where: `${data}: task.data`,
          hint: 'use --split test (the held-out part the run evaluated)',
        });
      return { examples: loadClinc150(d.dir).validation, maxLength: config.task.maxLength };
    }
    // The same seeded split (and maxExamples cut) the run evaluated on.
    const t = loadTaskData(d, config.training.seed);
    return { examples: split === 'train' ? t.train : t.test, maxLength: config.task.maxLength };
  }
  return { examples: loadDataset(data).examples };
}

/** Run the benchmark; returns the record (also added to `results` when given). */
export async function benchCommand(o: BenchCommandOptions): Promise<BenchRecord> {
  const out = o.out ?? process.stdout;
  const runtime = (o.runtime ?? (o.model.endsWith('.onnx') ? 'onnx' : 'tfjs')) as Runtime;
  if (runtime !== 'tfjs' && runtime !== 'onnx')
    throw new DistilleryError('USAGE', `unknown runtime "${o.runtime}"`, { where: '--runtime', hint: 'tfjs or onnx' });
  if (o.runs !== undefined && (!Number.isInteger(o.runs) || o.runs < 1))
    throw new DistilleryError('USAGE', `--runs must be a positive integer, got ${o.runs}`, { where: '--runs' });
  const sizeMB = modelSizeMB(o.model, runtime);
  const split = o.split ?? 'test';
  const { examples, maxLength } = await benchExamples(o.data, split);
  if (runtime === 'tfjs') await initBackend({ logger: { info: (m) => process.stderr.write(`${m}\n`) } });
  const classifier = await loadClassifier(o.model, runtime, { maxLength });
  try {
    const label = o.label ?? basename(resolve(o.model)).replace(/\.onnx$/, '');
    const bench = new PerformanceBenchmark({
      classifier,
      examples,
      label,
      model: o.model,
      runtime,
      split,
      sizeMB,
      latencyRuns: o.runs,
      throughputMs: o.throughputMs,
    });
    const { predictions: _p, ...rec } = await bench.run();
    if (o.results) await upsertResult(o.results, rec);
    out.write(
      o.json
        ? JSON.stringify(rec) + '\n'
        : formatBenchRecord(rec) + (o.results ? `\nadded "${label}" to ${o.results}` : '') + '\n',
    );
    return rec;
  } finally {
    await classifier.dispose?.();
  }
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('bench')
    .description('benchmark a model: accuracy on a split, size on disk, single-query latency, throughput at batch 32');
  commonOptions(cmd, { json: 'print the record as one JSON document' })
    .requiredOption('--model <path>', 'Hugging Face model folder, or a .onnx file (ONNX Runtime)')
    .requiredOption(
      '--data <path>',
      'a job config (its task data and split), a CLINC150 folder, or a labelled data file',
    )
    .addOption(new Option('--split <split>', 'split to score').choices(['train', 'validation', 'test']).default('test'))
    .addOption(
      new Option('--runtime <name>', 'inference runtime (default: onnx for a .onnx file, else tfjs)').choices([
        'tfjs',
        'onnx',
      ]),
    )
    .option('--label <name>', "name of this model in results.json (default: the model folder's name)")
    .option('--results <file>', 'results.json to add the record to (keyed by label)')
    .option('--runs <n>', 'timed single-query runs', positiveInt, 100)
    .action(
      action(
        ctx,
        async (
          o: CommonOptions & {
            model: string;
            data: string;
            split: string;
            runtime?: string;
            label?: string;
            results?: string;
            runs: number;
          },
        ) => {
          await benchCommand({
            model: o.model,
            data: o.data,
            split: o.split,
            runtime: o.runtime,
            label: o.label,
            results: o.results,
            runs: o.runs,
            json: o.json,
            out: ctx.out,
          });
          return 0;
        },
      ),
    );
}
