import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PluginRegistry } from '../plugin/registry.js';
import { silentLogger } from '../util/logger.js';
import { MlpClassifier, mlpAdaptor, type FeatureBatch } from '../model/mlp.model.js';
import { MultiTeacherDistiller } from './multi-teacher-distiller.js';
import { MultiTaskDistiller, taskSamplingWeights } from './multi-task-distiller.js';

let registry: PluginRegistry;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registry = new PluginRegistry({ logger: silentLogger });
  await registry.loadBuiltins();
});

function batches(n: number, shift: number, seed: number): FeatureBatch[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: n }, () => {
    const features = new Float32Array(8 * 4);
    const labels = new Int32Array(8);
    for (let i = 0; i < 8; i++) {
      labels[i] = i % 2;
      for (let j = 0; j < 4; j++) features[i * 4 + j] = rnd() + (labels[i] ? shift : -shift) * (j === 0 ? 1 : 0);
    }
    return { features, labels, batchSize: 8, dim: 4 };
  });
}

describe('MultiTeacherDistiller', () => {
  it("distils from the mean of several teachers' logits, without leaks", async () => {
    const teachers = [1, 2, 3].map((seed) => new MlpClassifier({ inputDim: 4, hidden: [6], numLabels: 2, seed }));
    const student = new MlpClassifier({ inputDim: 4, hidden: [3], numLabels: 2, seed: 9 });
    const d = new MultiTeacherDistiller({
      teachers,
      student,
      adaptorT: mlpAdaptor,
      adaptorS: mlpAdaptor,
      registry: registry.child(),
      trainingConfig: { numEpochs: 2, outputDir: mkdtempSync(join(tmpdir(), 'mt-')) },
      distillationConfig: { temperature: 2, hardLabelWeight: 0.2 },
    });
    const counts: number[] = [];
    d.events.on('stepEnd', () => counts.push(tf.memory().numTensors));
    const data = batches(3, 1, 1);
    // Independent reference for the first batch, before any update, in plain float64 JS:
    // kd = mean over rows of −Σ_c p_c log q_c with p = softmax(mean_t(z_t)/T), q = softmax(z_S/T), T = 2;
    // hard label = mean cross-entropy of the student's logits (no dropout in these MLPs).
    const rows = (m: MlpClassifier) => {
      const z = m.forward(data[0]!, { training: false }).logits;
      const v = z.arraySync();
      z.dispose();
      return v;
    };
    const logSoftmax = (r: number[]) => {
      const mx = Math.max(...r);
      const lse = mx + Math.log(r.reduce((a, x) => a + Math.exp(x - mx), 0));
      return r.map((x) => x - lse);
    };
    const zT = teachers.map(rows);
    const zS = rows(student);
    const mean = zS.map((r, i) => r.map((_, c) => zT.reduce((a, t) => a + t[i]![c]!, 0) / zT.length));
    const kdRef =
      zS.reduce((a, r, i) => {
        const p = logSoftmax(mean[i]!.map((x) => x / 2)).map(Math.exp);
        const q = logSoftmax(r.map((x) => x / 2));
        return a - p.reduce((u, pc, c) => u + pc * q[c]!, 0);
      }, 0) / zS.length;
    const hlRef = zS.reduce((a, r, i) => a - logSoftmax(r)[data[0]!.labels[i]!]!, 0) / zS.length;
    const first: { loss: number; losses: Readonly<Record<string, number>> }[] = [];
    d.events.on('batchEnd', (b) => first.push(b));
    const r = await d.train({ dataloader: data });
    expect(r.globalStep).toBe(6);
    expect(first[0]!.losses.unweighted_kd_loss).toBeCloseTo(kdRef, 5);
    expect(first[0]!.losses.unweighted_hard_label_loss).toBeCloseTo(hlRef, 5);
    expect(first[0]!.loss).toBeCloseTo(kdRef + 0.2 * hlRef, 5);
    // the mean of logits is not the mean of probabilities nor one teacher: the check tells them apart
    expect(
      Math.abs(
        kdRef -
          zS.reduce(
            (a, r2, i) =>
              a -
              logSoftmax(zT[0]![i]!.map((x) => x / 2))
                .map(Math.exp)
                .reduce((u, pc, c) => u + pc * logSoftmax(r2.map((x) => x / 2))[c]!, 0),
            0,
          ) /
            zS.length,
      ),
    ).toBeGreaterThan(1e-4);
    expect(new Set(counts).size).toBe(1);
    [...teachers, student].forEach((m) => m.dispose());
  });
  it('rejects mismatched adaptor lists', () => {
    const m = new MlpClassifier({ inputDim: 4, hidden: [], numLabels: 2 });
    expect(
      () =>
        new MultiTeacherDistiller({
          teachers: [m, m],
          student: m,
          adaptorT: [mlpAdaptor],
          adaptorS: mlpAdaptor,
          registry: registry.child(),
        }),
    ).toThrow(/2 teachers but 1 teacher adaptors/);
    m.dispose();
  });
});

describe('MultiTaskDistiller', () => {
  it('samples tasks with p ∝ n^τ (TextBrewer) and trains one student on both', async () => {
    expect(taskSamplingWeights({ a: 12, b: 3, c: 30 }, 1).p).toEqual([12 / 45, 3 / 45, 30 / 45]);
    expect(taskSamplingWeights({ a: 4, b: 1 }, 0).p).toEqual([0.5, 0.5]);
    const tA = new MlpClassifier({ inputDim: 4, hidden: [6], numLabels: 2, seed: 1 });
    const tB = new MlpClassifier({ inputDim: 4, hidden: [6], numLabels: 2, seed: 2 });
    const student = new MlpClassifier({ inputDim: 4, hidden: [4], numLabels: 2, seed: 3 });
    const seen: Record<string, number> = { a: 0, b: 0 };
    const counting = (task: string) => (b: FeatureBatch, o: ReturnType<MlpClassifier['forward']>) => (
      seen[task]!++,
      mlpAdaptor(b, o)
    );
    const d = new MultiTaskDistiller({
      student,
      tasks: {
        a: { teacher: tA, adaptorT: mlpAdaptor, adaptorS: counting('a'), dataloader: batches(6, 1, 1) },
        b: { teacher: tB, adaptorT: mlpAdaptor, adaptorS: counting('b'), dataloader: batches(2, 2, 2) },
      },
      registry: registry.child(),
      trainingConfig: { numSteps: 40, outputDir: mkdtempSync(join(tmpdir(), 'mtask-')), ckptSteps: 20 },
    });
    const r = await d.train({});
    expect(r.globalStep).toBe(40);
    expect(r.checkpoints).toHaveLength(2);
    expect(seen.a + seen.b).toBe(40);
    expect(seen.a).toBeGreaterThan(seen.b); // 6 vs 2 batches: p = 0.75 / 0.25
    expect(seen.b).toBeGreaterThan(0);
    [tA, tB, student].forEach((m) => m.dispose());
  });
});
