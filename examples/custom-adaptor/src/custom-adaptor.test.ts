import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { TextCnn, cnnAdaptor, distilToCnn } from './index.js';

const teacherDir = sharedPath('models', 'clinc-bert-teacher');
const dataDir = sharedPath('data', 'clinc150');

describe('custom adaptor: a CNN student', () => {
  it('masks padding out of the max-pool and exposes logits, loss and the pooled feature', async () => {
    await initBackend();
    const before = tf.memory().numTensors;
    const m = new TextCnn({ vocabSize: 10, numLabels: 3, embeddingSize: 4, channels: 5 });
    expect(tf.memory().numTensors).toBe(before + 5); // the five variables, no stray initial values
    const batch = {
      inputIds: Int32Array.from([1, 2, 0, 3, 4, 5]),
      attentionMask: Int32Array.from([1, 1, 0, 1, 1, 1]),
      tokenTypeIds: new Int32Array(6),
      labels: Int32Array.from([0, 2]),
      batchSize: 2,
      seqLen: 3,
    };
    tf.tidy(() => {
      const out = m.forward(batch, { training: false });
      const a = cnnAdaptor(batch, out);
      expect((a.pooled as tf.Tensor[])[0]!.shape).toEqual([2, 5]);
      expect((a.logits as tf.Tensor).shape).toEqual([2, 3]);
      expect((a.losses as tf.Tensor[]).length).toBe(1);
      // Row 0 with its padded token changed pools to the same vector: padding never wins the max.
      const other = m.forward({ ...batch, inputIds: Int32Array.from([1, 2, 7, 3, 4, 5]) }, { training: false });
      expect(
        tf
          .max(tf.abs(tf.sub(tf.slice(out.pooled, [0, 0], [1, -1]), tf.slice(other.pooled, [0, 0], [1, -1]))))
          .dataSync()[0],
      ).toBe(0);
    });
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(!teacherDir || !dataDir)(
    `distils from the BERT teacher with logit KD and a pooled match (5 steps) ${teacherDir ? '' : SHARED_SKIP_MESSAGE}`,
    async () => {
      await initBackend();
      const before = tf.memory().numTensors;
      const r = await distilToCnn({
        teacherDir: teacherDir!,
        dataDir: dataDir!,
        numSteps: 5,
        maxExamples: 160,
        outputDir: mkdtempSync(join(tmpdir(), 'cnn-')),
      });
      expect(r.train, JSON.stringify({ g: r.train.globalStep, t: r.train.totalSteps })).toMatchObject({
        globalStep: 5,
      });
      expect(Object.keys(r.train.lastLosses).sort()).toEqual([
        'unweighted_hard_label_loss',
        'unweighted_kd_loss',
        'unweighted_pooled_hidden_mse_0_0',
      ]);
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
