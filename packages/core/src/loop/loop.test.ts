import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PluginRegistry } from '../plugin/registry.js';
import { silentLogger } from '../util/logger.js';
import { MlpClassifier, mlpAdaptor, type FeatureBatch } from '../model/mlp.model.js';
import { BasicDistiller } from '../distillers/basic-distiller.js';
import { listCheckpoints } from '../checkpoint/folder.js';
import { configDiff } from '../checkpoint/state.js';
import { mulberry32 } from '../util/rng.js';
import type { Hook } from './types.js';

function blobs(n = 6, seed = 5): FeatureBatch[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const labels = Int32Array.from({ length: 16 }, () => (r() < 0.5 ? 0 : 1));
    const features = Float32Array.from(
      { length: 16 * 8 },
      (_, i) => (labels[Math.floor(i / 8)]! ? 1 : -1) * (i % 3 === 0 ? 1 : 0.2) + r() - 0.5,
    );
    return { features, labels, batchSize: 16, dim: 8 };
  });
}

let registry: PluginRegistry;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registry = new PluginRegistry({ logger: silentLogger });
  await registry.load('@distillery/plugin-loss-kd');
  await registry.load('@distillery/plugin-schedulers');
});

const out = () => mkdtempSync(join(tmpdir(), 'distillery-loop-'));
const teacher = () => new MlpClassifier({ inputDim: 8, hidden: [12], numLabels: 2, seed: 1 });

function distiller(dir: string, studentSeed: number, extra: Record<string, unknown> = {}) {
  const student = new MlpClassifier({ inputDim: 8, hidden: [6], numLabels: 2, dropout: 0.3, seed: studentSeed });
  const d = new BasicDistiller({
    student,
    teacher: teacher(),
    adaptorS: mlpAdaptor,
    adaptorT: mlpAdaptor,
    registry: registry.child(),
    trainingConfig: {
      numEpochs: 3,
      gradientAccumulationSteps: 2,
      ckptFrequency: 1,
      outputDir: dir,
      optimizer: { lr: 0.05 },
      lrScheduler: { type: 'linear', warmupSteps: 2 },
      ...extra,
    },
    distillationConfig: { temperature: 2, hardLabelWeight: 0.5, kdLossWeightScheduler: 'linear_decay' },
  });
  return { d, student };
}

const weights = (m: MlpClassifier) =>
  Object.fromEntries(Object.entries(m.parameters()).map(([k, v]) => [k, Array.from(v.dataSync())]));

describe('training loop: hooks, control, exact resume', () => {
  it('a run stopped by a hook and resumed from its checkpoint ends bit-identical (dropout, accumulation, LR schedule)', async () => {
    const data = blobs();
    const full = distiller(out(), 7);
    const rFull = await full.d.train({ dataloader: data });
    expect(rFull.globalStep).toBe(9);

    const dir = out();
    const a = distiller(dir, 7);
    const stopper: Hook = { name: 'stop-at-4', onStepEnd: (s, c) => void (s.globalStep === 4 && c.stop('test stop')) };
    const rA = await a.d.train({ dataloader: data, hooks: [stopper] });
    expect(rA.stopReason).toBe('test stop');
    expect(listCheckpoints(dir)).toContain('checkpoint-4');

    // A different initialisation proves the checkpoint restores everything.
    const b = distiller(dir, 99);
    const counts: number[] = [];
    b.d.events.on('stepEnd', () => counts.push(tf.memory().numTensors));
    const rB = await b.d.train({ dataloader: data, resumeFrom: true });
    expect(rB.resumedFrom).toMatch(/checkpoint-4$/);
    expect(rB.globalStep).toBe(9);
    expect(weights(b.student)).toEqual(weights(full.student));
    expect(rB.lastLosses).toEqual(rFull.lastLosses);
    expect(new Set(counts.slice(1)).size).toBe(1);
    const steps = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'step');
    expect(steps.map((s) => s.globalStep)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const m of [full.student, a.student, b.student]) m.dispose();
  });

  it('names the hook that threw, and refuses a resume whose config changed (naming the field) unless forced', async () => {
    const data = blobs(2);
    const dir = out();
    const x = distiller(dir, 3);
    const bad: Hook = {
      name: 'my-hook',
      onStepEnd: () => {
        throw new Error('boom');
      },
    };
    await expect(x.d.train({ dataloader: data, hooks: [bad] })).rejects.toThrow(
      /hook "my-hook" failed in onStepEnd: boom/,
    );
    const y = distiller(dir, 3);
    await y.d.train({ dataloader: data });
    const z = distiller(dir, 3, { optimizer: { lr: 0.1 } });
    await expect(z.d.train({ dataloader: data, resumeFrom: true })).rejects.toThrow(
      /training\.optimizer\.lr: 0\.05 → 0\.1/,
    );
    await expect(z.d.train({ dataloader: data, resumeFrom: true, force: true })).resolves.toMatchObject({
      globalStep: 3,
    });
    expect(configDiff({ a: { b: 1, outputDir: 'x' } }, { a: { b: 2, outputDir: 'y' } })).toEqual(['a.b: 1 → 2']);
    // A plugin's unexpected error names the plugin and the config path that selected it.
    const reg = registry.child().register({
      meta: { name: 'broken', version: '1.0.0', kind: 'kd-loss' },
      compute: () => {
        throw new TypeError('x is undefined');
      },
    } as never);
    const student = new MlpClassifier({ inputDim: 8, hidden: [6], numLabels: 2, seed: 1 });
    const w = new BasicDistiller({
      student,
      teacher: teacher(),
      adaptorS: mlpAdaptor,
      adaptorT: mlpAdaptor,
      registry: reg,
      trainingConfig: { numEpochs: 1, outputDir: out() },
      distillationConfig: { kdLossType: 'broken' },
    });
    await expect(w.train({ dataloader: data })).rejects.toThrow(
      /kd-loss plugin "broken" \(selected by distillation\.kdLossType\) failed: x is undefined/,
    );
    student.dispose();
    // So does a callback plugin's, with the "plugins" entry that loaded it.
    const reg2 = registry.child().register(
      {
        meta: { name: 'cb', version: '1.0.0', kind: 'callback' },
        hooks: {
          stepEnd: () => {
            throw new Error('nope');
          },
        },
      } as never,
      { source: 'my-callbacks' },
    );
    const student2 = new MlpClassifier({ inputDim: 8, hidden: [6], numLabels: 2, seed: 1 });
    const w2 = new BasicDistiller({
      student: student2,
      teacher: teacher(),
      adaptorS: mlpAdaptor,
      adaptorT: mlpAdaptor,
      registry: reg2,
      trainingConfig: { numEpochs: 1, outputDir: out() },
    });
    await expect(w2.train({ dataloader: data })).rejects.toThrow(
      /hook "cb" \(selected by plugins: "my-callbacks"\) failed in onStepEnd: nope/,
    );
    student2.dispose();
    for (const m of [x, y, z]) m.student.dispose();
  });

  it('evaluates every N steps, keeps the best checkpoint past saveTotalLimit, and stops early', async () => {
    const data = blobs(4);
    const dir = out();
    const { d, student } = distiller(dir, 5, {
      numEpochs: 4,
      evaluateEvery: 1,
      saveTotalLimit: 1,
      earlyStopping: { patience: 3 },
      metricForBest: 'score',
    });
    const scores = [0.1, 0.5, 0.4, 0.3, 0.45, 0.2, 0.9];
    const seen: number[] = [];
    const saver: Hook = {
      name: 'save-at-5',
      onStepEnd: (s, c) => void (s.globalStep === 5 && c.saveNow()),
      onEvaluate: (s) => void seen.push(s.globalStep),
    };
    const r = await d.train({ dataloader: data, hooks: [saver], evaluate: (gs) => ({ score: scores[gs - 1]! }) });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(r.stopReason).toMatch(/early stopping: score did not improve/);
    expect(r.best).toMatchObject({ step: 2, value: 0.5, metric: 'score' });
    expect(listCheckpoints(dir)).toEqual(['checkpoint-2', 'checkpoint-5']);
    expect(existsSync(join(r.best!.path!, 'optimizer.safetensors'))).toBe(true);
    const state = JSON.parse(readFileSync(join(dir, 'checkpoint-5', 'state.json'), 'utf8'));
    expect(state).toMatchObject({
      globalStep: 5,
      best: { step: 2 },
      hooks: { 'early-stopping': { bad: 3 } },
      cursor: { batchesSeen: 10, batchesPerEpoch: 4 },
    });
    student.dispose();
  });
});
