import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DistilleryError } from '@distillery/core';
import { bertConfig } from './bert.config.js';
import { BertForSequenceClassification } from './bert.model.js';
import { saveHfModel } from './hf.io.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('loading a model with NaN/Inf weights', () => {
  it('is refused naming the tensor, unless allowNonFinite (for inspection)', async () => {
    const m = new BertForSequenceClassification(
      bertConfig({
        vocabSize: 20,
        hiddenSize: 8,
        numHiddenLayers: 1,
        numAttentionHeads: 2,
        intermediateSize: 16,
        maxPositionEmbeddings: 8,
        id2label: ['a', 'b'],
      }),
      { seed: 1 },
    );
    const [name, v] = Object.entries(m.parameters()).find(([k]) => k.includes('attention.self.query.weight'))!;
    const data = (v.dataSync() as Float32Array).slice();
    data[3] = NaN;
    const nan = tf.tensor(data, v.shape);
    v.assign(nan);
    nan.dispose();
    const dir = mkdtempSync(join(tmpdir(), 'nan-model-'));
    await saveHfModel(m, dir);
    m.dispose();
    let err: unknown;
    try {
      await BertForSequenceClassification.fromPretrained(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DistilleryError);
    expect((err as DistilleryError).code).toBe('NON_FINITE_WEIGHTS');
    expect((err as Error).message).toContain(
      `refusing to load: 1 tensor(s) hold NaN/Inf: ${name} (NaN at flat index 3)`,
    );
    expect((err as Error).message).toMatch(/allowNonFinite/);
    const loaded = await BertForSequenceClassification.fromPretrained(dir, { allowNonFinite: true });
    expect(Number.isNaN((loaded.parameters()[name]!.dataSync() as Float32Array)[3])).toBe(true);
    loaded.dispose();
  });
});
