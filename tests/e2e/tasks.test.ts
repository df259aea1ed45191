/**
 * The task configs of examples/tasks through the CLI's job runner with a tiny budget: a sentence-pair student
 * distilled from the PyTorch-made clinc-pair-bert, and a token-classification (NER) student on the CoNLL fixture
 * with entity F1 in the summary.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createLogger, initBackend, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadJobConfig, runJob } from '@distillery/cli';
import { loadConll, alignWordLabels } from '@distillery/data';

const pairModel = sharedPath('models', 'clinc-pair-bert');
const clincTeacher = sharedPath('models', 'clinc-bert-teacher');
const clincData = sharedPath('data', 'clinc150');
const pairData = sharedPath('data', 'clinc150-pairs');
const logger = createLogger('test', { level: process.env.TASKS_LOG ? 'debug' : 'warn' });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw config JSON, patched freely (invalid values included, to test the errors)
type RawConfig = Record<string, any>;

function patched(example: string, patch: (c: RawConfig) => void): string {
  const cfg = JSON.parse(readFileSync(join('examples', 'tasks', example), 'utf8'));
  delete cfg.$schema;
  // Paths in a config are relative to its folder: keep them pointing at the same files from the temp copy.
  const abs = (p: unknown) => (typeof p === 'string' ? resolve('examples', 'tasks', p) : p);
  for (const k of ['train', 'test', 'dir'])
    if (cfg.task.data[k] !== undefined) cfg.task.data[k] = abs(cfg.task.data[k]);
  for (const side of ['teacher', 'student'])
    if (cfg[side]?.model?.pretrained) cfg[side].model.pretrained = abs(cfg[side].model.pretrained);
  patch(cfg);
  const dir = mkdtempSync(join(tmpdir(), 'tasks-'));
  cfg.training.outputDir = join(dir, 'run');
  // The fastest backend present (native/wasm): the cpu backend takes minutes for these BERT steps.
  cfg.training.backend = 'auto';
  const file = join(dir, example);
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

describe('CoNLL loader and alignment', () => {
  it('reads the fixture: -DOCSTART- skipped, sentences split on blank lines, tag from the last column', () => {
    const { sentences } = loadConll('tests/e2e/fixtures/conll/train.conll');
    expect(sentences).toHaveLength(8);
    expect(sentences[1]!.words).toEqual(['Bob', 'Smith', 'works', 'for', 'Acme', 'Corporation', '.']);
    expect(sentences[1]!.tags).toEqual(['B-PER', 'I-PER', 'O', 'O', 'B-ORG', 'I-ORG', 'O']);
    const bad = join(mkdtempSync(join(tmpdir(), 'conll-')), 'bad.conll');
    writeFileSync(bad, 'Alice B-PER\nlonely\n');
    expect(() => loadConll(bad)).toThrow(/bad\.conll:2/);
  });
  it('first sub-token labelled, the rest and special tokens -100 (transformers)', () => {
    expect(alignWordLabels([null, 0, 0, 1, 2, 2, null], [3, 0, 1])).toEqual([-100, 3, -100, 0, 1, -100, -100]);
    expect(alignWordLabels([null, 0, 0, 1, null], [3, 0], { labelAllSubtokens: true })).toEqual([-100, 3, 3, 0, -100]);
  });
});

describe('task configs through the CLI runner', () => {
  it('ner.json: trains a token teacher, distils a token student with the logits mask; entity F1 reported', async () => {
    const file = patched('ner.json', (c) => {
      c.teacher.training.numSteps = 30;
      c.training.numSteps = 6;
    });
    const { config, text } = await loadJobConfig(file);
    await initBackend();
    const before = tf.memory().numTensors;
    const s = await runJob(config, 'distill', { logger, progress: false, configFile: file, configText: text });
    expect(s.train).toBe(8);
    expect(s.test).toBe(3);
    expect(s.teacher.metrics).toHaveProperty('entityF1');
    expect(s.student!.metrics!.entityF1).toBeGreaterThanOrEqual(0);
    expect(s.teacher.accuracy).toBeGreaterThan(0.5); // most tokens are O after 30 steps
    expect(existsSync(join(config.training.outputDir, 'summary.json'))).toBe(true);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2);
  });

  it.skipIf(!pairModel || !pairData)(
    `pair.json: a 1-layer pair student distilled from clinc-pair-bert ${pairModel ? '' : SHARED_SKIP_MESSAGE}`,
    async () => {
      const file = patched('pair.json', (c) => {
        c.task.data.train = join(pairData!, 'train.jsonl');
        c.task.data.test = join(pairData!, 'validation.jsonl');
        c.task.data.maxExamples = 64;
        c.teacher.model.pretrained = pairModel;
        c.training = { numSteps: 3, optimizer: { type: 'adamw', lr: 1e-4 } };
      });
      const { config, text } = await loadJobConfig(file);
      const s = await runJob(config, 'distill', { logger, progress: false, configFile: file, configText: text });
      expect(s.train).toBe(64);
      expect(s.teacher.accuracy).toBeGreaterThan(0.6);
      expect(s.student!.parameters).toBeLessThan(s.teacher.parameters); // frozen teachers count their weights
      expect(s.student!.source).toMatch(/GeneralDistiller, 3 steps/);
    },
  );

  it('sts.json: a regression pair teacher and student (MSE hard loss, kdLossType mse); MSE and Pearson reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-'));
    const words = ['red', 'blue', 'green', 'cat', 'dog', 'bird', 'runs', 'sleeps', 'sings', 'big'];
    const rows = ['sentence1\tsentence2\tscore'];
    for (let i = 0; i < 48; i++) {
      const a = [words[i % 10], words[(i * 3) % 10], words[(i * 7) % 10]];
      const b = [words[i % 10], words[(i * 5) % 10], words[(i + 4) % 10]];
      rows.push(`${a.join(' ')}\t${b.join(' ')}\t${a.filter((w) => b.includes(w)).length}`);
    }
    writeFileSync(join(dir, 'train.tsv'), rows.join('\n') + '\n');
    const file = patched('sts.json', (c) => {
      c.task.data.train = join(dir, 'train.tsv');
      delete c.task.data.test;
      c.task.maxLength = 16;
      c.task.batchSize = 8;
      c.teacher.model = {
        type: 'bert',
        numHiddenLayers: 1,
        hiddenSize: 16,
        numAttentionHeads: 2,
        intermediateSize: 32,
      };
      c.teacher.training = { numSteps: 8, optimizer: { type: 'adamw', lr: 0.01 } };
      c.student.model = {
        type: 'bert',
        numHiddenLayers: 1,
        hiddenSize: 16,
        numAttentionHeads: 2,
        intermediateSize: 32,
        initFromTeacher: true,
      };
      c.training.numSteps = 3;
      delete c.training.numEpochs;
    });
    const { config, text } = await loadJobConfig(file);
    const s = await runJob(config, 'distill', { logger, progress: false, configFile: file, configText: text });
    expect(s.teacher.metrics).toHaveProperty('pearson');
    expect(Number.isFinite(s.student!.metrics!.mse)).toBe(true);
  });

  it.skipIf(!clincTeacher || !clincData)(
    `distilbert.json: a DistilBERT student initialised from the CLINC150 BERT teacher ${clincTeacher ? '' : SHARED_SKIP_MESSAGE}`,
    async () => {
      const file = patched('distilbert.json', (c) => {
        c.task.data.dir = clincData;
        c.task.data.maxExamples = 64;
        c.teacher.model.pretrained = clincTeacher;
        c.training = { numSteps: 2, optimizer: { type: 'adamw', lr: 1e-4 } };
      });
      const { config, text } = await loadJobConfig(file);
      const s = await runJob(config, 'distill', { logger, progress: false, configFile: file, configText: text });
      expect(s.student!.source).toMatch(/GeneralDistiller, 2 steps/);
      // Embeddings and teacher layers 0 and 2 copied: the 2-layer student already beats chance (1/151) on its test rows.
      expect(s.student!.accuracy).toBeGreaterThan(0.02);
    },
  );
});
