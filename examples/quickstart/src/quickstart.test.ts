import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { quickstart } from './index.js';

const teacherDir = sharedPath('models', 'clinc-bert-teacher');
const dataDir = sharedPath('data', 'clinc150');

describe.skipIf(!teacherDir || !dataDir)(`README quick start ${teacherDir ? '' : SHARED_SKIP_MESSAGE}`, () => {
  it('runs (3 steps on 96 examples) with every term reported and no leaked tensors', async () => {
    await initBackend();
    const before = tf.memory().numTensors;
    const r = await quickstart({
      teacherDir: teacherDir!,
      dataDir: dataDir!,
      numSteps: 3,
      maxExamples: 96,
      outputDir: mkdtempSync(join(tmpdir(), 'qs-')),
    });
    expect(r.globalStep).toBe(3);
    expect(Object.keys(r.lastLosses).sort()).toEqual([
      'unweighted_attention_attention_mse_1_3',
      'unweighted_hard_label_loss',
      'unweighted_hidden_hidden_mse_2_4',
      'unweighted_kd_loss',
    ]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
