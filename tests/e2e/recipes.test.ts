/**
 * Issue 17: the two recipe configs of examples/recipes run through the CLI's job runner on CLINC150, reduced
 * to a few steps: DistilBERT-style masked-LM distillation, and MobileBERT-style three-stage distillation
 * (with a stop inside stage 2 and --resume).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadJobConfig, runJob } from '@distillery/cli';

const shared = sharedPath('data', 'clinc150');
const recipes = join(import.meta.dirname, '..', '..', 'examples', 'recipes');
const logger = createLogger('test', { level: 'warn' });

/** The example config with the data path, output folder and budgets made small. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw config JSON, patched freely
async function reduced(name: string, edit: (c: Record<string, any>) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'distillery-recipe-'));
  const c = JSON.parse(readFileSync(join(recipes, name), 'utf8').replaceAll('../../../shared/data/clinc150', shared!));
  c.training.outputDir = join(dir, 'run');
  edit(c);
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(c, null, 2));
  return { file, dir, config: (await loadJobConfig(file)).config };
}

describe.skipIf(!shared)(`recipes through the CLI ${shared ? '' : SHARED_SKIP_MESSAGE}`, () => {
  it('DistilBERT recipe: masked-LM distillation from a config file', async () => {
    const { config, dir } = await reduced('distilbert-mlm.json', (c) => {
      c.task.data.maxExamples = 200;
      c.task.data.vocabSize = 300;
      c.teacher.model = { ...c.teacher.model, hiddenSize: 32, numAttentionHeads: 2, intermediateSize: 64 };
      c.student.model = { ...c.student.model, hiddenSize: 32, numAttentionHeads: 2, intermediateSize: 64 };
      c.teacher.training.numSteps = 6;
      c.teacher.training.ckptSteps = 6;
      c.training.numSteps = 4;
      c.training.ckptSteps = 4;
    });
    const s = await runJob(config, 'distill', { logger, progress: false });
    expect(s.task).toMatch(/masked LM/);
    expect(s.student!.accuracy).toBeGreaterThanOrEqual(0);
    const steps = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'step');
    for (const k of ['unweighted_kd_loss', 'unweighted_hard_label_loss', 'unweighted_hidden_cos_2_4'])
      expect(Number.isFinite(steps.at(-1).losses[k]), k).toBe(true);
    const cfg = JSON.parse(readFileSync(join(dir, 'run', 'final', 'config.json'), 'utf8'));
    expect(cfg.architectures).toEqual(['BertForMaskedLM']);
  }, 120_000);

  it('MobileBERT recipe: three stages; stopped inside stage 2 and resumed', async () => {
    const { config, dir } = await reduced('mobilebert-staged.json', (c) => {
      c.task.data.maxExamples = 160;
      c.training.evaluateEvery = 2;
      // A small teacher trained in the job instead of the pretrained one.
      c.teacher = {
        model: { type: 'bert', numHiddenLayers: 4, hiddenSize: 32, numAttentionHeads: 2, intermediateSize: 64 },
        training: { numEpochs: 1, optimizer: { lr: 0.002 } },
      };
      c.student.model = { ...c.student.model, hiddenSize: 32, numAttentionHeads: 2, intermediateSize: 16 };
      c.distillation.stages[0].numSteps = 3;
      c.distillation.stages[1].numSteps = 20;
      c.distillation.stages[2].numSteps = 4;
      // The last stage freezes the embeddings: its best checkpoint must still reload (it holds every parameter).
      c.distillation.stages[2].freeze = ['embeddings'];
    });
    // Stop inside stage 2 through the abort signal (what SIGINT does; a checkpoint is written at the stop), from a
    // timer: stage 2 trains no output loss, so it has no evaluation to hook into, and the loop must yield to timers.
    const ac = new AbortController();
    const evaluatedAt: number[] = [];
    const timer = setInterval(() => void (existsSync(join(dir, 'run', 'stage-1', 'metrics.jsonl')) && ac.abort()), 5);
    const first = await runJob(config, 'distill', {
      logger,
      progress: false,
      signal: ac.signal,
      onEvaluate: (gs) => void evaluatedAt.push(gs),
    }).finally(() => clearInterval(timer));
    expect(first.interrupted?.run).toBe('student');
    expect(first.interrupted?.stage?.index).toBe(1);
    expect(first.interrupted!.stage!.step).toBeLessThan(20);
    // Stages 1 and 2 train no output loss (kdLossWeight and hardLabelWeight 0): never evaluated.
    expect(evaluatedAt).toEqual([]);
    const done = JSON.parse(readFileSync(join(dir, 'run', 'stages.json'), 'utf8')).done;
    expect(done.map((d: { index: number }) => d.index)).toEqual([0]);
    const s = await runJob(config, 'distill', {
      logger,
      progress: false,
      resume: true,
      onEvaluate: (gs) => void evaluatedAt.push(gs),
    });
    expect(s.interrupted).toBeUndefined();
    // Only stage 3 was evaluated (steps 2 and 4 of it); its best checkpoint, frozen embeddings and all, was reloaded
    // and scores on validation exactly what it was selected with.
    expect(evaluatedAt).toEqual([2, 4]);
    for (const i of [0, 1])
      expect(readFileSync(join(dir, 'run', `stage-${i}`, 'metrics.jsonl'), 'utf8')).not.toContain('"type":"evaluate"');
    expect(s.student!.selected).toMatchObject({
      kind: 'best',
      split: 'validation',
      stage: { index: 2, name: 'logits + hard labels' },
    });
    expect(s.student!.validation!.accuracy).toBe(s.student!.selected!.value);
    // CLINC150: in-scope accuracy and oos recall beside accuracy, on validation and test.
    for (const m of [s.student!.validation!, s.student!.metrics!]) {
      expect(m.inScopeAccuracy).toBeGreaterThanOrEqual(0);
      expect(m.oosRecall).toBeGreaterThanOrEqual(0);
    }
    expect(JSON.parse(readFileSync(join(dir, 'run', 'stages.json'), 'utf8')).done.length).toBe(3);
    const m1 = readFileSync(join(dir, 'run', 'stage-1', 'metrics.jsonl'), 'utf8');
    expect(m1).toContain('unweighted_hidden_hidden_mse_3_3');
    const m2 = readFileSync(join(dir, 'run', 'stage-2', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'step');
    expect(m2.at(-1).losses).toHaveProperty('unweighted_kd_loss');
    expect(existsSync(join(dir, 'run', 'final', 'model.safetensors'))).toBe(true);
  }, 180_000);
});
