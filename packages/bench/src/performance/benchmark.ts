/**
 * PerformanceBenchmark: what users compare across teacher, students and quantized models —
 * accuracy on a labelled split (plus CLINC150's in-scope accuracy and oos recall), size on disk,
 * single-query latency and batched throughput. Produces a {@link BenchRecord} for results.json.
 */
import { DistilleryError } from '@distillery/core';
import type { Example } from '@distillery/data';
import type { BenchRecord, LatencyStats } from '@distillery/report';
import type { Classifier, Runtime } from './classifier.js';
import { latencyStats } from './stats.js';

/** Options of {@link PerformanceBenchmark}. */
export interface PerformanceBenchmarkOptions {
  classifier: Classifier;
  /** Labelled examples of the split. */
  examples: readonly Example[];
  /** Row name in results.json. */
  label: string;
  /** Model path (for the record). */
  model: string;
  runtime: Runtime;
  /** Split name (for the record). @default "test" */
  split?: string;
  /** Weights size on disk, MB. */
  sizeMB: number;
  /** Label of out-of-scope rows; when the split has it, in-scope accuracy and oos recall are reported. @default "oos" */
  oosLabel?: string;
  /** Untimed single-query runs first (JIT, kernel caches). @default 10 */
  warmupRuns?: number;
  /** Timed single-query runs (≥ 100 for stable percentiles). @default 100 */
  latencyRuns?: number;
  /** Batch size of the throughput measurement. @default 32 */
  throughputBatchSize?: number;
  /** Minimum time spent on throughput, ms (at least 3 batches). @default 2000 */
  throughputMs?: number;
  /** Clock in ms (tests). @default performance.now */
  now?: () => number;
}

/** Accuracy of a split. */
export interface AccuracyResult {
  n: number;
  accuracy: number;
  inScopeAccuracy?: number;
  oosRecall?: number;
  /** Predicted label per example, in input order. */
  predictions: string[];
}

export class PerformanceBenchmark {
  private readonly o: PerformanceBenchmarkOptions;
  private readonly now: () => number;

  constructor(o: PerformanceBenchmarkOptions) {
    if (!o.examples.length)
      throw new DistilleryError('DATA_EMPTY', 'the split has no examples', { where: `--split ${o.split ?? 'test'}` });
    o.examples.forEach((e, i) => {
      if (e.label === undefined)
        throw new DistilleryError('DATA_INVALID', `example ${i} has no label: accuracy needs labelled data`, {
          where: `--split ${o.split ?? 'test'}`,
        });
    });
    const runs = o.latencyRuns ?? 100;
    if (!Number.isInteger(runs) || runs < 1)
      throw new DistilleryError('USAGE', `latencyRuns must be a positive integer, got ${runs}`, {
        where: 'latencyRuns',
      });
    this.o = o;
    this.now = o.now ?? (() => performance.now());
  }

  /** Accuracy on the split; CLINC150-style in-scope accuracy and oos recall when oos rows exist. */
  async accuracy(): Promise<AccuracyResult> {
    const ex = this.o.examples;
    const oos = this.o.oosLabel ?? 'oos';
    const preds = (await this.o.classifier.predict(ex.map((e) => e.text))).map((p) => p.label);
    if (preds.length !== ex.length)
      throw new DistilleryError(
        'CLASSIFIER_OUTPUT',
        `the classifier returned ${preds.length} predictions for ${ex.length} texts`,
        { where: this.o.model },
      );
    let ok = 0,
      inN = 0,
      inOk = 0,
      oosN = 0,
      oosOk = 0;
    preds.forEach((p, i) => {
      const gold = ex[i]!.label!;
      const hit = p === gold;
      if (hit) ok++;
      if (gold === oos) {
        oosN++;
        if (hit) oosOk++;
      } else {
        inN++;
        if (hit) inOk++;
      }
    });
    return {
      n: ex.length,
      accuracy: ok / ex.length,
      ...(oosN ? { inScopeAccuracy: inN ? inOk / inN : 0, oosRecall: oosOk / oosN } : {}),
      predictions: preds,
    };
  }

  /** Single-query latency: queries cycle through the split's texts; warm-up runs are not timed. */
  async latency(): Promise<LatencyStats> {
    const texts = this.o.examples.map((e) => e.text);
    const warm = this.o.warmupRuns ?? 10;
    const runs = this.o.latencyRuns ?? 100;
    for (let i = 0; i < warm; i++) await this.o.classifier.predict([texts[i % texts.length]!]);
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = texts[(warm + i) % texts.length]!;
      const t0 = this.now();
      await this.o.classifier.predict([t]);
      ms.push(this.now() - t0);
    }
    return latencyStats(ms);
  }

  /** Texts per second in batches of `throughputBatchSize` (after one warm-up batch). */
  async throughput(): Promise<{ batchSize: number; textsPerSecond: number }> {
    const bs = this.o.throughputBatchSize ?? 32;
    const texts = this.o.examples.map((e) => e.text);
    const batch = (k: number) => Array.from({ length: bs }, (_, j) => texts[(k * bs + j) % texts.length]!);
    await this.o.classifier.predict(batch(0));
    const minMs = this.o.throughputMs ?? 2000;
    let done = 0;
    const t0 = this.now();
    for (let k = 1; k <= 3 || this.now() - t0 < minMs; k++) {
      await this.o.classifier.predict(batch(k));
      done += bs;
    }
    return { batchSize: bs, textsPerSecond: (1000 * done) / (this.now() - t0) };
  }

  /** Everything, as a results.json record. */
  async run(): Promise<BenchRecord & { predictions: string[] }> {
    const acc = await this.accuracy();
    const latencyMs = await this.latency();
    const throughput = await this.throughput();
    const { predictions, ...a } = acc;
    return {
      label: this.o.label,
      model: this.o.model,
      runtime: this.o.runtime,
      ...(this.o.classifier.backend ? { backend: this.o.classifier.backend } : {}),
      split: this.o.split ?? 'test',
      ...a,
      sizeMB: this.o.sizeMB,
      ...(this.o.classifier.parameters !== undefined ? { parameters: this.o.classifier.parameters } : {}),
      latencyMs,
      throughput,
      date: new Date().toISOString(),
      predictions,
    };
  }
}

/** One line per record: "label  acc 80.20 %  16.2 MB  12.3 ± 1.1 ms (p50 12.0, p95 14.2)  812 texts/s". */
export function formatBenchRecord(r: BenchRecord): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const clinc =
    r.inScopeAccuracy !== undefined ? ` (in-scope ${pct(r.inScopeAccuracy)}, oos recall ${pct(r.oosRecall ?? 0)})` : '';
  const l = r.latencyMs;
  return `${r.label}: accuracy ${pct(r.accuracy)}${clinc} on ${r.n} ${r.split} examples; ${r.sizeMB.toFixed(1)} MB; latency ${l.mean.toFixed(2)} ± ${l.std.toFixed(2)} ms (p50 ${l.p50.toFixed(2)}, p95 ${l.p95.toFixed(2)}, ${l.runs} runs); ${r.throughput.textsPerSecond.toFixed(0)} texts/s at batch ${r.throughput.batchSize} [${r.runtime}${r.backend ? `/${r.backend}` : ''}]`;
}
