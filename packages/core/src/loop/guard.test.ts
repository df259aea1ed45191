import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PluginRegistry } from '../plugin/registry.js';
import { silentLogger } from '../util/logger.js';
import { MlpClassifier, mlpAdaptor, type FeatureBatch } from '../model/mlp.model.js';
import { BasicDistiller } from '../distillers/basic-distiller.js';
import { writeCheckpoint } from '../checkpoint/checkpoint.js';
import { readCheckpointFolder, writeCheckpointFolder } from '../checkpoint/folder.js';
import type { CheckpointState } from '../checkpoint/state.js';
import type { TrainingConfigInput } from '../config/schema.js';
import { DistilleryError } from '../util/errors.js';

/** Two Gaussian blobs in 8-D; `nanBatch` gets a NaN feature. */
function blobs(nBatches = 4, bs = 16, dim = 8, nanBatch = -1): FeatureBatch[] {
  let s = 1;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: nBatches }, (_, b) => {
    const features = new Float32Array(bs * dim);
    const labels = new Int32Array(bs);
    for (let i = 0; i < bs; i++) {
      labels[i] = i % 2;
      for (let j = 0; j < dim; j++) features[i * dim + j] = rnd() + (labels[i] ? 1.5 : -1.5) * (j < 2 ? 1 : 0);
    }
    if (b === nanBatch) features[3] = NaN;
    return { features, labels, batchSize: bs, dim };
  });
}

let registry: PluginRegistry;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registry = new PluginRegistry({ logger: silentLogger });
  await registry.load('@distillery/plugin-loss-kd');
  await registry.load('@distillery/plugin-schedulers');
});

function distiller(
  training: TrainingConfigInput,
  teacher = new MlpClassifier({ inputDim: 8, hidden: [16], numLabels: 2, seed: 1 }),
  logger = silentLogger,
) {
  const student = new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2, seed: 7 });
  const outputDir = mkdtempSync(join(tmpdir(), 'guard-'));
  const d = new BasicDistiller({
    student,
    teacher,
    adaptorS: mlpAdaptor,
    adaptorT: mlpAdaptor,
    registry: registry.child(),
    logger,
    trainingConfig: { numEpochs: 3, outputDir, ...training },
    distillationConfig: { hardLabelWeight: 1 },
  });
  return { d, student, teacher, outputDir };
}

async function failure(p: Promise<unknown>): Promise<DistilleryError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DistilleryError);
    return e as DistilleryError;
  }
  throw new Error('expected the run to stop');
}

const checkpoints = (dir: string) => readdirSync(dir).filter((f) => /^checkpoint-\d+$/.test(f));
const finite = (m: MlpClassifier) =>
  Object.values(m.parameters()).every((v) => tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0] === 1));

describe('divergence guard', () => {
  for (const type of ['adamw', 'sgd'] as const) {
    it(`${type} with lr 1e6 stops at the gradient-norm ceiling before the update and before any checkpoint`, async () => {
      const { d, outputDir } = distiller({ optimizer: { type, lr: 1e6 } });
      const e = await failure(d.train({ dataloader: blobs() }));
      expect(e.code).toBe('GRAD_NORM_CEILING');
      expect(e.message).toMatch(
        /the gradient norm [\d.e+]+ exceeds training\.gradNormCeiling 10000 at step 2 \(epoch 0, batch 1 of this run\); the step was not applied/,
      );
      expect(e.message).toMatch(/lower training\.optimizer\.lr/);
      expect(checkpoints(outputDir)).toEqual([]);
    });
  }

  it('sgd lr 1e6 without a ceiling: the non-finite loss stops the run, naming the terms, with learning-rate advice', async () => {
    const { d, student } = distiller({ optimizer: { type: 'sgd', lr: 1e6 }, gradNormCeiling: null, ckptFrequency: 1 });
    const e = await failure(d.train({ dataloader: blobs() }));
    expect(['NON_FINITE_LOSS', 'NON_FINITE_GRADIENT']).toContain(e.code);
    expect(e.message).toMatch(/at step \d+ \(epoch \d, batch \d+ of this run\)/);
    expect(e.message).toMatch(/lower training\.optimizer\.lr/);
    expect(finite(student)).toBe(true); // the bad step was never applied
  });

  it('a NaN teacher: stopped at step 1 with advice about the teacher, not the learning rate', async () => {
    const teacher = new MlpClassifier({ inputDim: 8, hidden: [16], numLabels: 2, seed: 1 });
    const w = Object.values(teacher.parameters())[0]!;
    w.assign(tf.fill(w.shape, NaN));
    const { d, student, outputDir } = distiller({ optimizer: { lr: 0.01 } }, teacher);
    const e = await failure(d.train({ dataloader: blobs() }));
    expect(e.code).toBe('NON_FINITE_LOSS');
    expect(e.message).toMatch(
      /non-finite loss term\(s\) unweighted_kd_loss at step 1 \(epoch 0, batch 0 of this run\)/,
    );
    expect(e.message).toMatch(/the teacher produced NaN\/Inf .*check the teacher's weights and the inputs/);
    expect(e.message).not.toMatch(/learning rate|optimizer\.lr/);
    expect(finite(student)).toBe(true);
    expect(checkpoints(outputDir)).toEqual([]);
  });

  it('onNonFinite: "skip" skips the bad batch (warned, counted), keeps the model finite and the tensor count flat', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
    const { d, student, outputDir } = distiller(
      { optimizer: { lr: 0.01 }, onNonFinite: 'skip', numEpochs: 2 },
      undefined,
      logger,
    );
    const data = blobs(4, 16, 8, 2);
    await d.train({ dataloader: data, numEpochs: 1 });
    const before = tf.memory().numTensors;
    const r = await d.train({ dataloader: data, numEpochs: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.globalStep).toBe(4);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(
      /non-finite loss term\(s\) .* at step 3 .* batch skipped \(onNonFinite: "skip"; 1 step\(s\) skipped so far\)/,
    );
    expect(finite(student)).toBe(true);
    expect(checkpoints(outputDir).length).toBeGreaterThan(0);
  });

  it('never writes a checkpoint holding NaN/Inf, naming the tensor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guard-'));
    const params = new Map([
      ['ok', tf.zeros([2])],
      ['layer.weight', tf.tensor1d([1, Infinity])],
    ]);
    const e = await failure(writeCheckpoint(dir, 7, params));
    expect(e.code).toBe('NON_FINITE_WEIGHTS');
    expect(e.message).toMatch(
      /refusing to write checkpoint .*gs7\.safetensors: 1 tensor\(s\) hold NaN\/Inf: layer\.weight \(\+Inf at flat index 1\)/,
    );
    expect(readdirSync(dir)).toEqual([]);
    tf.dispose([...params.values()]);
  });

  it('checkpoint folders read large tensors back a few rows at a time: same values, NaN found at its flat index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guard-'));
    const n = 2048 * 600; // 1.23 M values: read in chunks of 1 M
    const values = Float32Array.from({ length: n }, (_, i) => (i % 1000) / 7);
    const big = tf.tensor2d(values, [2048, 600]);
    const contents = (model: Map<string, tf.Tensor>) => ({
      model,
      projections: new Map<string, tf.Tensor>(),
      optimizer: { step: 3, tensors: { 'm.big': big } },
      state: { globalStep: 3 } as unknown as CheckpointState,
    });
    const before = tf.memory().numTensors;
    const path = await writeCheckpointFolder(dir, contents(new Map([['big', big]])));
    expect(tf.memory().numTensors).toBe(before); // the row slices are disposed
    const back = await readCheckpointFolder(path);
    expect(back.model.get('big')!.shape).toEqual([2048, 600]);
    expect(Buffer.from(back.model.get('big')!.data.buffer).equals(Buffer.from(values.buffer))).toBe(true);
    expect(Buffer.from(back.optimizer.tensors.get('m.big')!.data.buffer).equals(Buffer.from(values.buffer))).toBe(true);
    const bad = values.slice();
    bad[1_200_000] = NaN;
    bad[1_200_001] = NaN;
    const badT = tf.tensor2d(bad, [2048, 600]);
    const e = await failure(writeCheckpointFolder(join(dir, 'b'), contents(new Map([['layer.big', badT]]))));
    expect(e.message).toMatch(/1 tensor\(s\) hold NaN\/Inf: layer\.big \(NaN at flat index 1200000\)\n/);
    expect(readdirSync(join(dir, 'b'))).toEqual([]);
    tf.dispose([big, badT]);
  });
});
