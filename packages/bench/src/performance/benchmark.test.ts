import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PerformanceBenchmark,
  formatBenchRecord,
  interleavedLatency,
  latencyStats,
  loadClassifier,
  modelSizeMB,
  percentile,
  type Classifier,
} from './index.js';

/** A classifier that predicts the first word of the text, with a fake clock advancing 2 ms per call. */
function fake(): { c: Classifier; now: () => number; calls: string[][] } {
  let t = 0;
  const calls: string[][] = [];
  const c: Classifier = {
    backend: 'fake',
    predict: (texts) => {
      calls.push(texts);
      t += 2 * texts.length;
      return Promise.resolve(texts.map((x) => ({ label: x.split(' ')[0]!, score: 1 })));
    },
  };
  return { c, now: () => t, calls };
}

const examples = [
  { text: 'a one', label: 'a' },
  { text: 'b two', label: 'b' },
  { text: 'oos three', label: 'oos' },
  { text: 'a four', label: 'oos' },
  { text: 'c five', label: 'b' },
];

describe('PerformanceBenchmark', () => {
  it('measures accuracy (with in-scope accuracy and oos recall), latency and throughput', async () => {
    const { c, now, calls } = fake();
    const b = new PerformanceBenchmark({
      classifier: c,
      examples,
      label: 'm',
      model: '/m',
      runtime: 'tfjs',
      sizeMB: 3.5,
      now,
      latencyRuns: 100,
      warmupRuns: 5,
      throughputMs: 50,
    });
    const r = await b.run();
    expect(r.accuracy).toBeCloseTo(3 / 5);
    expect(r.inScopeAccuracy).toBeCloseTo(2 / 3);
    expect(r.oosRecall).toBeCloseTo(1 / 2);
    expect(r.latencyMs).toMatchObject({ mean: 2, std: 0, p50: 2, p95: 2, runs: 100 });
    expect(calls.filter((x) => x.length === 1)).toHaveLength(105); // warm-up + timed runs, one text each
    expect(r.throughput.batchSize).toBe(32);
    expect(r.throughput.textsPerSecond).toBeCloseTo(500);
    expect(r.backend).toBe('fake');
    expect(formatBenchRecord(r)).toMatch(
      /accuracy 60.00 % \(in-scope 66.67 %, oos recall 50.00 %\).*3.5 MB.*2.00 ± 0.00 ms/,
    );
  });

  it('omits CLINC metrics when the split has no oos rows, and rejects unlabelled data', async () => {
    const { c, now } = fake();
    const b = new PerformanceBenchmark({
      classifier: c,
      examples: examples.slice(0, 2),
      label: 'm',
      model: '/m',
      runtime: 'tfjs',
      sizeMB: 1,
      now,
    });
    const a = await b.accuracy();
    expect(a.accuracy).toBe(1);
    expect(a.inScopeAccuracy).toBeUndefined();
    expect(
      () =>
        new PerformanceBenchmark({
          classifier: c,
          examples: [{ text: 'x' }],
          label: 'm',
          model: '/m',
          runtime: 'tfjs',
          sizeMB: 1,
        }),
    ).toThrow(/no label/);
  });

  it('latency statistics: sample std and nearest-rank percentiles', () => {
    const s = latencyStats(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(s.mean).toBe(50.5);
    expect(s.p50).toBe(50);
    expect(s.p95).toBe(95);
    expect(s.std).toBeCloseTo(29.011, 3);
    expect(percentile([], 50)).toBeNaN();
  });

  it('size is the weights file the runtime loads, and onnx without @distillery/onnx says what to install', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'size-'));
    writeFileSync(join(dir, 'model.safetensors'), Buffer.alloc(2_000_000));
    writeFileSync(join(dir, 'vocab.txt'), Buffer.alloc(500_000));
    mkdirSync(join(dir, 'onnx'));
    writeFileSync(join(dir, 'onnx', 'model.onnx'), Buffer.alloc(1_000_000));
    expect(modelSizeMB(dir, 'tfjs')).toBe(2);
    expect(modelSizeMB(dir, 'onnx')).toBe(1);
    expect(() => modelSizeMB(join(dir, 'nope'), 'tfjs')).toThrow(/model not found/);
    let err: Error | undefined;
    try {
      await loadClassifier(join(dir, 'onnx', 'model.onnx'), 'onnx');
    } catch (e) {
      err = e as Error;
    }
    // Either the deploy package is present (and loads or rejects the dummy file) or the error names it.
    if (err && /MISSING|@distillery\/onnx/.test(err.message))
      expect(err.message).toMatch(/--runtime onnx|@distillery\/onnx/);
  });
});

describe('interleavedLatency', () => {
  it('alternates models query by query and times each separately', async () => {
    let t = 0;
    const order: string[] = [];
    const model = (name: string, ms: number) => ({
      predict: (x: string[]) => {
        order.push(name);
        t += ms;
        return Promise.resolve(x.map(() => ({ label: 'a', score: 1 })));
      },
    });
    const r = await interleavedLatency({ slow: model('slow', 10), fast: model('fast', 2) }, ['a', 'b'], {
      warmupRuns: 2,
      runs: 50,
      now: () => t,
    });
    expect(r.slow).toMatchObject({ mean: 10, runs: 50 });
    expect(r.fast).toMatchObject({ mean: 2, runs: 50 });
    expect(order.slice(0, 4)).toEqual(['slow', 'fast', 'fast', 'slow']);
  });
});
