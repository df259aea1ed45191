/**
 * results.json: benchmark records keyed by label, so a teacher, students and quantized models
 * measured at different times compare on one chart. `distillery bench` adds to it; `distillery
 * report` reads it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DistilleryError, writeFileAtomic } from '@distillery/core';

/** Latency of single-query prediction, in milliseconds. */
export interface LatencyStats {
  mean: number;
  std: number;
  p50: number;
  p95: number;
  /** Number of timed runs (after warm-up). */
  runs: number;
}

/** One measured model (a row of the report). */
export interface BenchRecord {
  label: string;
  /** Model path as given (HF folder or .onnx file). */
  model: string;
  runtime: 'tfjs' | 'onnx';
  /** tfjs backend or ONNX execution provider. */
  backend?: string;
  split: string;
  /** Examples evaluated. */
  n: number;
  accuracy: number;
  /** CLINC150: accuracy on the 150 in-scope intents. */
  inScopeAccuracy?: number;
  /** CLINC150: recall of the `oos` class. */
  oosRecall?: number;
  /** Size of the weights file(s) on disk, MB (10⁶ bytes). */
  sizeMB: number;
  parameters?: number;
  latencyMs: LatencyStats;
  throughput: { batchSize: number; textsPerSecond: number };
  /** ISO time of the measurement. */
  date: string;
  /** Free notes (e.g. "KD gain +3.1 ± 0.4 points over 3 seeds"). */
  note?: string;
}

/** The results file. `current` is the model the report highlights (the one measured last by default). */
export interface ResultsFile {
  version: 1;
  current?: string;
  results: Record<string, BenchRecord>;
}

/** Read a results file; a missing file is an empty one when `allowMissing`. */
export function readResults(file: string, opts: { allowMissing?: boolean } = {}): ResultsFile {
  if (!existsSync(file)) {
    if (opts.allowMissing) return { version: 1, results: {} };
    throw new DistilleryError('FILE_NOT_FOUND', 'results file not found', {
      where: file,
      hint: 'create it with `distillery bench --model <dir> --data <dir> --results results.json`',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DistilleryError('RESULTS_INVALID', `not valid JSON: ${(e as Error).message}`, { where: file });
  }
  const r = parsed as Partial<ResultsFile>;
  if (!r || typeof r !== 'object' || typeof r.results !== 'object' || r.results === null) {
    throw new DistilleryError('RESULTS_INVALID', 'expected an object with a "results" map keyed by label', {
      where: file,
      hint: 'results.json is written by `distillery bench --results`',
    });
  }
  for (const [label, rec] of Object.entries(r.results)) {
    for (const key of ['accuracy', 'sizeMB'] as const) {
      if (typeof rec?.[key] !== 'number')
        throw new DistilleryError('RESULTS_INVALID', `"${key}" must be a number`, {
          where: `${file}: results.${label}.${key}`,
        });
    }
    if (typeof rec.latencyMs?.mean !== 'number')
      throw new DistilleryError('RESULTS_INVALID', '"latencyMs.mean" must be a number', {
        where: `${file}: results.${label}.latencyMs`,
      });
  }
  return { version: 1, current: r.current, results: r.results };
}

/** Add (or replace) a record in a results file and mark it current; written atomically. */
export async function upsertResult(file: string, rec: BenchRecord): Promise<ResultsFile> {
  const r = readResults(file, { allowMissing: true });
  r.results[rec.label] = rec;
  r.current = rec.label;
  await writeFileAtomic(file, JSON.stringify(r, null, 2) + '\n');
  return r;
}
