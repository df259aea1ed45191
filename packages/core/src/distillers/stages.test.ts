import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PluginRegistry } from '../plugin/registry.js';
import { silentLogger } from '../util/logger.js';
import { MlpClassifier, mlpAdaptor, type FeatureBatch } from '../model/mlp.model.js';
import { GeneralDistiller } from './general-distiller.js';
import { checkStages, stageConfigs, stageFreeze, trainStages, type StageSpec } from './stages.js';
import { freezeMatcher } from './trainer-base.js';
import type { Hook } from '../loop/types.js';

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
  await registry.load('@distillery/plugin-loss-hidden-mse');
});

// MobileBERT-like schedule on a 2-hidden-layer MLP: lower layer, then the deeper one with the lower frozen, then logits + labels.
const STAGES: StageSpec[] = [
  {
    name: 'lower',
    numSteps: 6,
    kdLossWeight: 0,
    hardLabelWeight: 0,
    intermediateMatches: [{ layerT: 0, layerS: 0, feature: 'hidden', loss: 'hidden_mse', weight: 1 }],
    lrScheduler: { type: 'linear', warmupSteps: 2 },
  },
  {
    name: 'deeper',
    numSteps: 8,
    kdLossWeight: 0,
    hardLabelWeight: 0,
    freeze: ['layers.0'],
    intermediateMatches: [{ layerT: 1, layerS: 1, feature: 'hidden', loss: 'hidden_mse', weight: 1 }],
    lrScheduler: { type: 'linear', warmupSteps: 2 },
  },
  { name: 'logits', numSteps: 6, kdLossWeight: 1, hardLabelWeight: 1, lr: 0.02 },
];

async function run(
  dir: string,
  opts: { stopAt?: number; resume?: boolean; evaluate?: (gs: number) => Record<string, number> } = {},
) {
  const teacher = new MlpClassifier({ inputDim: 8, hidden: [6, 6], numLabels: 2, seed: 1 });
  const student = new MlpClassifier({ inputDim: 8, hidden: [6, 6], numLabels: 2, seed: 7 });
  // Stage 2 is the one with 8 steps: stop there (a hook's control.stop, as a user's Ctrl-C would).
  const stopper: Hook = {
    name: 'stop-in-stage-2',
    onStepEnd: (s, c) => void (s.globalStep === opts.stopAt && s.totalSteps === 8 && c.stop('test stop')),
  };
  const res = await trainStages({
    stages: STAGES,
    outputDir: dir,
    student,
    resume: opts.resume,
    makeTrainer: (stage, i, out, freeze) => {
      const c = stageConfigs(
        { outputDir: out, ckptSteps: 3, seed: 5, optimizer: { lr: 0.05 } },
        { temperature: 2 },
        stage,
      );
      return new GeneralDistiller({
        student,
        teacher,
        adaptorS: mlpAdaptor,
        adaptorT: mlpAdaptor,
        registry: registry.child(),
        logger: silentLogger,
        freeze,
        trainingConfig: c.training,
        distillationConfig: c.distillation,
      });
    },
    train: { dataloader: blobs(), hooks: [stopper], ...(opts.evaluate ? { evaluate: opts.evaluate } : {}) },
  });
  const weights = Object.fromEntries(
    Object.entries(student.parameters()).map(([k, v]) => [k, Array.from(v.dataSync())]),
  );
  teacher.dispose?.();
  return { res, weights, student };
}

describe('staged (progressive) distillation', () => {
  it('freeze patterns match whole name segments; stage freeze lists; stage validation names the field', () => {
    const m = freezeMatcher(['layer.1', 'embeddings']);
    expect(m('bert.encoder.layer.1.attention.self.query.weight')).toBe(true);
    expect(m('bert.encoder.layer.10.output.dense.bias')).toBe(false);
    expect(m('bert.embeddings.word_embeddings.weight')).toBe(true);
    expect(stageFreeze({ numSteps: 1, freezeBelow: 2 })).toEqual(['embeddings', 'layer.0', 'layer.1']);
    expect(() => checkStages([{ numSteps: 1 }, { numSteps: 2, numEpochs: 1 }])).toThrow(/stages\[1\]/);
  });

  it('runs stages in order with per-stage matches, weights, warm-up and freezing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stages-'));
    const { res, student } = await run(dir);
    expect(res.results.map((r) => r?.globalStep)).toEqual([6, 8, 6]);
    expect(Object.keys(res.results[0]!.lastLosses)).toContain('unweighted_hidden_hidden_mse_0_0');
    expect(Object.keys(res.results[1]!.lastLosses)).toContain('unweighted_hidden_hidden_mse_1_1');
    expect(Object.keys(res.results[2]!.lastLosses)).toContain('unweighted_kd_loss');
    // Stage 2 froze layers.0: the weights did not move in stage 2 (see below); its checkpoints still hold it.
    const s1 = JSON.parse(readFileSync(join(dir, 'stages.json'), 'utf8'));
    expect(s1.done.map((d: { name: string }) => d.name)).toEqual(['lower', 'deeper', 'logits']);
    expect(readdirSync(join(dir, 'stage-1'))).toContain('checkpoint-8');
    // Per-stage warm-up: each stage's LR restarts from 0 and reaches lr after 2 steps; stage 3 has its own lr.
    const lrs = (i: number) =>
      readFileSync(join(dir, `stage-${i}`, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((l) => l.type === 'step')
        .map((l) => l.lr as number);
    for (const i of [0, 1])
      expect(
        lrs(i)
          .slice(0, 3)
          .map((x) => +x.toFixed(6)),
      ).toEqual([0, 0.025, 0.05]);
    expect(lrs(2)[0]).toBeCloseTo(0.02, 6);
    expect(student.parameters()['layers.0.weight']).toBeDefined();
  });

  it('frozen parameters do not change in their stage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stages-'));
    const a = await run(dir);
    const { readSafetensors } = await import('../io/safetensors.js');
    const w0 = (await readSafetensors(join(dir, 'stage-0', 'student.safetensors'))).tensors.get(
      'layers.0.weight',
    )!.data;
    const w1 = (await readSafetensors(join(dir, 'stage-1', 'student.safetensors'))).tensors.get(
      'layers.0.weight',
    )!.data;
    const l1a = (await readSafetensors(join(dir, 'stage-0', 'student.safetensors'))).tensors.get(
      'layers.1.weight',
    )!.data;
    const l1b = (await readSafetensors(join(dir, 'stage-1', 'student.safetensors'))).tensors.get(
      'layers.1.weight',
    )!.data;
    expect(Array.from(w1)).toEqual(Array.from(w0));
    expect(Array.from(l1b)).not.toEqual(Array.from(l1a));
    expect(a.res.stoppedIn).toBeUndefined();
  });

  it('stages that train no output loss are not evaluated; the best is chosen across the evaluated stages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stages-'));
    const calls: number[] = [];
    // Evaluation at every checkpoint (ckptSteps 3). Scores fall with the step, so a stage-1 evaluation would win.
    const { res } = await run(dir, { evaluate: (gs) => (calls.push(gs), { accuracy: 1 / gs }) });
    expect(calls).toEqual([3, 6]); // stage 3 only (stages 1 and 2 have kdLossWeight = hardLabelWeight = 0)
    expect(res.best).toMatchObject({ stage: 2, stageName: 'logits', step: 3, value: 1 / 3 });
    expect(res.best!.path).toMatch(/stage-2[/\\]checkpoint-3$/);
    // Recorded in stages.json, so a resumed run still knows it.
    const done = JSON.parse(readFileSync(join(dir, 'stages.json'), 'utf8')).done;
    expect(done[2].best).toMatchObject({ step: 3, value: 1 / 3 });
    expect(done[0].best).toBeUndefined();
    const again = await run(dir, { resume: true, evaluate: () => ({ accuracy: 0 }) });
    expect(again.res.results).toEqual([undefined, undefined, undefined]);
    expect(again.res.best).toMatchObject({ stage: 2, step: 3 });
  });

  it('a checkpoint written while parameters were frozen holds the whole student and loads into any trainer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stages-'));
    const { student } = await run(dir);
    const ck = join(dir, 'stage-1', 'checkpoint-8');
    const { readCheckpointFolder } = await import('../checkpoint/folder.js');
    const saved = await readCheckpointFolder(ck);
    // The frozen layer is in model.safetensors (a complete HF model), and state.json says it was frozen.
    expect([...saved.model.keys()].sort()).toEqual(Object.keys(student.parameters()).sort());
    expect(saved.state.frozen).toEqual(['layers.0.weight', 'layers.0.bias']);
    const stage1 = Object.fromEntries([...saved.model].map(([k, t]) => [k, Array.from(t.data)]));
    // Reload into a fresh student through a trainer that freezes nothing (what the CLI does for the best
    // checkpoint), and through one that freezes the same layer: both give stage 2's student back.
    for (const freeze of [[], ['layers.0']]) {
      const fresh = new MlpClassifier({ inputDim: 8, hidden: [6, 6], numLabels: 2, seed: 99 });
      const teacher = new MlpClassifier({ inputDim: 8, hidden: [6, 6], numLabels: 2, seed: 1 });
      const t = new GeneralDistiller({
        student: fresh,
        teacher,
        adaptorS: mlpAdaptor,
        adaptorT: mlpAdaptor,
        registry: registry.child(),
        logger: silentLogger,
        freeze,
        trainingConfig: { outputDir: dir },
      });
      const before = tf.memory().numTensors;
      expect((await t.loadCheckpoint(ck)).globalStep).toBe(8);
      expect(tf.memory().numTensors).toBe(before);
      for (const [k, v] of Object.entries(fresh.parameters()))
        expect(Array.from(v.dataSync()), `${k} (freeze ${freeze.join()})`).toEqual(stage1[k]);
      fresh.dispose?.();
      teacher.dispose?.();
    }
    student.dispose?.();
  });

  it('a run stopped inside stage 2 and resumed ends with the same weights as an uninterrupted run', async () => {
    const full = await run(mkdtempSync(join(tmpdir(), 'stages-')));
    const dir = mkdtempSync(join(tmpdir(), 'stages-'));
    const stopped = await run(dir, { stopAt: 5 });
    expect(stopped.res.stoppedIn).toBe(1);
    const resumed = await run(dir, { resume: true });
    expect(resumed.res.results[0]).toBeUndefined();
    expect(resumed.res.results[1]!.resumedFrom).toMatch(/checkpoint-5$/);
    for (const [k, v] of Object.entries(full.weights)) {
      const r = resumed.weights[k]!;
      expect(Math.max(...v.map((x, i) => Math.abs(x - r[i]!))), k).toBeLessThanOrEqual(1e-6);
    }
  });
});
