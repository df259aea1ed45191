import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PluginRegistry } from '../plugin/registry.js';
import { silentLogger } from '../util/logger.js';
import { MlpClassifier, mlpAdaptor, type FeatureBatch } from '../model/mlp.model.js';
import { BasicDistiller } from './basic-distiller.js';
import { BasicTrainer } from './basic-trainer.js';
import { GeneralDistiller } from './general-distiller.js';
import { loadCheckpoint } from '../checkpoint/checkpoint.js';
import { listCheckpoints } from '../checkpoint/folder.js';

/** Two Gaussian blobs in 8-D, 4 batches of 16. */
function blobs(nBatches = 4, bs = 16, dim = 8, seed = 1): FeatureBatch[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: nBatches }, () => {
    const features = new Float32Array(bs * dim);
    const labels = new Int32Array(bs);
    for (let i = 0; i < bs; i++) {
      labels[i] = i % 2;
      for (let j = 0; j < dim; j++) features[i * dim + j] = rnd() + (labels[i] ? 1.5 : -1.5) * (j < 2 ? 1 : 0);
    }
    return { features, labels, batchSize: bs, dim };
  });
}

let registry: PluginRegistry;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registry = new PluginRegistry({ logger: silentLogger });
  await registry.load('@distillery/plugin-loss-kd');
  await registry.load('@distillery/plugin-schedulers');
  await registry.load('@distillery/plugin-loss-hidden-mse');
  await registry.load('@distillery/plugin-projections');
});

const out = () => mkdtempSync(join(tmpdir(), 'distillery-test-'));

describe('BasicTrainer + BasicDistiller on a tiny MLP', () => {
  it('trains a teacher, distils a student, keeps the tensor count flat, writes checkpoints and metrics', async () => {
    const data = blobs();
    const teacher = new MlpClassifier({ inputDim: 8, hidden: [16], numLabels: 2, seed: 1 });
    const dir1 = out();
    const trainer = new BasicTrainer({
      student: teacher,
      adaptor: mlpAdaptor,
      registry: registry.child(),
      trainingConfig: { numEpochs: 10, outputDir: dir1, optimizer: { lr: 0.05 } },
    });
    const r1 = await trainer.train({ dataloader: data });
    expect(r1.globalStep).toBe(40);
    expect(r1.lastLoss).toBeLessThan(0.3);

    const student = new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2, seed: 7 });
    const dir2 = out();
    const d = new BasicDistiller({
      student,
      teacher,
      adaptorS: mlpAdaptor,
      adaptorT: mlpAdaptor,
      registry: registry.child(),
      trainingConfig: { numEpochs: 3, outputDir: dir2, ckptFrequency: 2, optimizer: { lr: 0.05 } },
      distillationConfig: { temperature: 2, hard_label_weight: 0.5, kd_loss_weight_scheduler: 'linear_decay' } as never,
    });
    const counts: number[] = [];
    d.events.on('stepEnd', () => counts.push(tf.memory().numTensors));
    const seen: number[] = [];
    const r2 = await d.train({ dataloader: data, callback: (_m, step) => void seen.push(step) });
    expect(new Set(counts).size).toBe(1); // no tensor leaks across steps
    expect(r2.lastLosses).toHaveProperty('unweighted_kd_loss');
    expect(r2.lastLosses).toHaveProperty('unweighted_hard_label_loss');
    expect(seen).toEqual([2, 4, 6, 8, 10, 12]);
    expect(listCheckpoints(dir2)).toEqual(seen.map((s) => `checkpoint-${s}`));
    const lines = readFileSync(r2.metricsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'step')).toHaveLength(12);
    // Checkpoint round trip restores the exact weights.
    const w = student.parameters()['classifier.weight']!.dataSync().slice();
    const copy = new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2, seed: 99 });
    await loadCheckpoint(join(dir2, 'checkpoint-12'), new Map(Object.entries(copy.parameters())));
    expect(Array.from(copy.parameters()['classifier.weight']!.dataSync())).toEqual(Array.from(w));
    expect(readdirSync(dir2).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const acc =
      data.map((b) => student.predict(b).filter((p, i) => p === b.labels![i]).length).reduce((a, b) => a + b) / 64;
    expect(acc).toBeGreaterThan(0.9);
    for (const m of [teacher, student, copy]) m.dispose();
  });

  it('caches teacher logits after the first epoch (teacher forwarded only in epoch 0)', async () => {
    const data = blobs(3);
    const teacher = new MlpClassifier({ inputDim: 8, hidden: [8], numLabels: 2, seed: 3 });
    let calls = 0;
    const counting = { forward: (b: FeatureBatch, o: { training: false }) => (calls++, teacher.forward(b, o)) };
    const student = new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2, seed: 4 });
    const d = new BasicDistiller({
      student,
      teacher: counting,
      adaptorS: mlpAdaptor,
      adaptorT: mlpAdaptor,
      registry: registry.child(),
      trainingConfig: { numEpochs: 3, outputDir: out() },
      distillationConfig: { isCachingLogits: true },
    });
    const before = tf.memory().numTensors;
    await d.train({ dataloader: data });
    expect(calls).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    teacher.dispose();
    student.dispose();
  });

  it('gives diagnosing errors for bad adaptor outputs and unknown plugins', async () => {
    const data = blobs(2);
    const m = new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2 });
    const mk = (adaptorS: never, dc = {}) =>
      new BasicDistiller({
        student: m,
        teacher: m,
        adaptorS,
        adaptorT: mlpAdaptor,
        registry: registry.child(),
        trainingConfig: { numEpochs: 1, outputDir: out() },
        distillationConfig: dc,
      });
    await expect(mk(((_b: FeatureBatch) => ({ losses: [] })) as never).train({ dataloader: data })).rejects.toThrow(
      /student adaptor: missing key "logits"/,
    );
    await expect(
      mk(((_b: FeatureBatch, o: { logits: tf.Tensor }) => ({ logits: tf.reshape(o.logits, [-1]) })) as never).train({
        dataloader: data,
      }),
    ).rejects.toThrow(/"logits" has shape \[32\] \(rank 1\); expected \(B, C\)/);
    expect(() => mk(mlpAdaptor as never, { kdLossType: 'kll' })).toThrow(
      /distillation\.kdLossType: unknown kd-loss plugin "kll"[\s\S]*did you mean "kl"/,
    );
    m.dispose();
  });
});

describe('GeneralDistiller', () => {
  it('trains projections (own lr), clips them with the student, saves and restores them', async () => {
    const data = blobs(2);
    const teacher = new MlpClassifier({ inputDim: 8, hidden: [12], numLabels: 2, seed: 1 });
    const student = new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2, seed: 2 });
    const dir = out();
    const cfg = {
      student,
      teacher,
      adaptorS: mlpAdaptor,
      adaptorT: mlpAdaptor,
      trainingConfig: { numEpochs: 2, outputDir: dir, maxGradNorm: 0.5, optimizer: { lr: 0.01 } },
      distillationConfig: {
        intermediateMatches: [
          {
            layerT: 0,
            layerS: 0,
            feature: 'hidden',
            loss: 'hidden_mse',
            weight: 1,
            proj: ['linear', 4, 12, { lr: 0.05 }] as [string, number, number, { lr: number }],
          },
        ],
      },
    };
    const d = new GeneralDistiller({ ...cfg, registry: registry.child() });
    const w0 = d.projections[0]!.variables[0]!.dataSync().slice();
    const r = await d.train({ dataloader: data });
    expect(r.lastLosses).toHaveProperty('unweighted_hidden_hidden_mse_0_0');
    const trained = d.projections[0]!.variables[0]!.dataSync().slice();
    expect(Array.from(trained)).not.toEqual(Array.from(w0));
    const d2 = new GeneralDistiller({
      ...cfg,
      student: new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2, seed: 9 }),
      registry: registry.child(),
    });
    expect((await d2.loadCheckpoint(r.checkpoints.at(-1)!)).globalStep).toBe(4);
    expect(Array.from(d2.projections[0]!.variables[0]!.dataSync())).toEqual(Array.from(trained));
    d.dispose();
    d2.dispose();
    teacher.dispose();
    student.dispose();
  });
});
