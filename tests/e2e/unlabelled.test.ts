/**
 * Issue 11: `task.unlabelled` mixes raw texts into the distillation data; their rows contribute the
 * KD term only (the hard-label loss is a mean over labelled rows), and bad files name file:line.
 */
import { beforeAll, describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createLogger, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadJobConfig, runJob } from '@distillery/cli';
import { loadUnlabelled, maskUnlabelled } from '../../packages/cli/src/job/unlabelled.js';
import { bertAdaptor } from '@distillery/models';

const shared = sharedPath();
const ready = shared && sharedPath('models', 'clinc-bert-teacher') && sharedPath('data', 'clinc150');

describe('unlabelled data', () => {
  beforeAll(async () => {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
  });

  it('the hard-label loss is the mean over labelled rows; an all-unlabelled batch has none', () => {
    const logits = tf.tensor2d([
      [2, 0],
      [0, 2],
      [1, 1],
    ]);
    const batch = (labels: number[]) => ({
      inputIds: new Int32Array(3),
      attentionMask: new Int32Array(3).fill(1),
      tokenTypeIds: new Int32Array(3),
      batchSize: 3,
      seqLen: 1,
      labels: Int32Array.from(labels),
    });
    const adaptor = maskUnlabelled(bertAdaptor);
    const lossOf = (labels: number[]) =>
      tf.tidy(
        () =>
          (adaptor(batch(labels), { logits, loss: tf.scalar(99) } as never).losses as tf.Tensor[])[0]!.dataSync()[0]!,
      );
    const ce0 = -Math.log(Math.exp(2) / (Math.exp(2) + 1));
    expect(lossOf([0, -1, -1])).toBeCloseTo(ce0, 5);
    expect(lossOf([0, 1, -1])).toBeCloseTo(ce0, 5); // mean over the 2 labelled rows
    expect(lossOf([-1, -1, -1])).toBe(0);
    expect(lossOf([0, 1, 0])).toBe(99); // fully labelled batches keep the model's own loss
    logits.dispose();
  });

  it('reads .txt and .jsonl files; a bad JSONL row names file:line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-unl-'));
    writeFileSync(join(dir, 'a.txt'), 'one\n\ntwo\n');
    writeFileSync(join(dir, 'b.jsonl'), '{"body": "x"}\n{"body": 3}\n');
    expect(loadUnlabelled(join(dir, 'a.txt')).map((e) => e.text)).toEqual(['one', 'two']);
    expect(() => loadUnlabelled({ path: join(dir, 'b.jsonl'), textField: 'body' })).toThrow(/no string field "body"/);
    try {
      loadUnlabelled({ path: join(dir, 'b.jsonl'), textField: 'body' });
    } catch (e) {
      expect((e as { where?: string }).where).toBe(`${join(dir, 'b.jsonl')}:2`);
    }
  });

  it.skipIf(!ready)(
    `distils from labelled + unlabelled texts through a config ${ready ? '' : SHARED_SKIP_MESSAGE}`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'distillery-unl-e2e-'));
      const clinc = JSON.parse(readFileSync(join(shared!, 'data', 'clinc150', 'data_oos_plus.json'), 'utf8')) as Record<
        string,
        [string, string][]
      >;
      writeFileSync(
        join(dir, 'raw.txt'),
        clinc
          .train!.slice(-64)
          .map(([t]) => t)
          .join('\n') + '\n',
      );
      const cfg = {
        task: {
          data: { type: 'clinc150', dir: join(shared!, 'data', 'clinc150'), maxExamples: 128 },
          batchSize: 32,
          maxLength: 32,
          unlabelled: 'raw.txt',
        },
        teacher: { model: { type: 'onnx', path: join(shared!, 'models', 'clinc-bert-teacher', 'model.onnx') } },
        student: {
          model: { type: 'bert', numHiddenLayers: 1, hiddenSize: 16, numAttentionHeads: 2, intermediateSize: 32 },
        },
        training: { numEpochs: 1, outputDir: 'run', optimizer: { lr: 0.001 } },
        distillation: { temperature: 4, hardLabelWeight: 0.5 },
      };
      writeFileSync(join(dir, 'distillery.json'), JSON.stringify(cfg));
      const { config } = await loadJobConfig(join(dir, 'distillery.json'));
      const summary = await runJob(config, 'distill', {
        logger: createLogger('test', { level: 'warn' }),
        progress: false,
      });
      const steps = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((m) => m.type === 'step');
      expect(steps.length).toBe(6); // (128 labelled + 64 unlabelled) / 32
      for (const s of steps)
        expect(Number.isFinite(s.losses.unweighted_hard_label_loss) && s.losses.unweighted_kd_loss > 0).toBe(true);
      expect(summary.student!.accuracy).toBeGreaterThanOrEqual(0);
    },
  );
});
