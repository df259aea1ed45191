import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { readSafetensors, writeSafetensors } from '@distillery/core';
import { WordPieceTokenizer } from '@distillery/data';
import { bertConfig } from '../bert/bert.config.js';
import { BertForSequenceClassification } from '../bert/bert.model.js';
import { loadHfModel, saveHfModel } from '../bert/hf.io.js';
import { distilBertConfig } from '../distilbert/distilbert.config.js';
import { DistilBertForSequenceClassification } from '../distilbert/distilbert.model.js';
import { predictTexts } from '../eval/predict.js';

const tiny = bertConfig({
  vocabSize: 30,
  hiddenSize: 8,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 16,
  maxPositionEmbeddings: 8,
  id2label: ['a', 'b'],
});
const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('checkpoint files', () => {
  it('a sharded checkpoint (model.safetensors.index.json) loads bit-exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shard-'));
    const m = new BertForSequenceClassification(tiny, { seed: 4 });
    await saveHfModel(m, dir);
    const file = await readSafetensors(join(dir, 'model.safetensors'));
    unlinkSync(join(dir, 'model.safetensors'));
    const names = [...file.tensors.keys()];
    const weightMap: Record<string, string> = {};
    for (const [k, part] of [
      [0, names.slice(0, 10)],
      [1, names.slice(10)],
    ] as const) {
      const shard = `model-0000${k + 1}-of-00002.safetensors`;
      await writeSafetensors(
        join(dir, shard),
        Object.fromEntries(
          part.map((n) => [n, { data: file.tensors.get(n)!.data, shape: file.tensors.get(n)!.shape }]),
        ),
        { format: 'pt' },
      );
      for (const n of part) weightMap[n] = shard;
    }
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }),
    );
    const back = await loadHfModel(dir);
    for (const [k, t] of Object.entries(m.weights())) expect(bits(back.weights()[k]!)).toEqual(bits(t));
    back.dispose();
    // A shard listed in the index but absent is named.
    unlinkSync(join(dir, 'model-00002-of-00002.safetensors'));
    await expect(loadHfModel(dir)).rejects.toThrow(
      /shard "model-00002-of-00002.safetensors" listed in the index is missing/,
    );
    m.dispose();
  });

  it('a folder with only pytorch_model.bin says how to convert it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pt-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2 }));
    writeFileSync(join(dir, 'pytorch_model.bin'), 'not a pickle');
    await expect(loadHfModel(dir)).rejects.toThrow(
      /only pytorch_model\.bin.*safetensors\.torch.*save_file|save_pretrained\(dir, safe_serialization=True\)/s,
    );
    try {
      await loadHfModel(dir);
    } catch (e) {
      expect(String((e as { hint?: string }).hint)).toMatch(/safe_serialization=True/);
    }
  });

  it('an unknown model_type lists the supported ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
    await expect(loadHfModel(dir)).rejects.toThrow(/model_type "gpt2" is not supported/);
  });
});

describe('regression heads (problem_type "regression")', () => {
  const batch = {
    inputIds: Int32Array.from([2, 7, 9, 3, 2, 5, 3, 0]),
    attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 0]),
    tokenTypeIds: new Int32Array(8),
    targets: Float32Array.from([0.5, 4.2]),
    batchSize: 2,
    seqLen: 4,
  };
  it('BERT and DistilBERT: one output, MSE against the targets; predict reports the value', () => {
    const bert = new BertForSequenceClassification(
      bertConfig({ ...tiny, id2label: ['score'], extra: { problem_type: 'regression' } }),
      { seed: 1 },
    );
    const distil = new DistilBertForSequenceClassification(
      distilBertConfig({
        vocabSize: 30,
        hiddenSize: 8,
        numHiddenLayers: 1,
        numAttentionHeads: 2,
        intermediateSize: 16,
        maxPositionEmbeddings: 8,
        numLabels: 1,
        extra: { problem_type: 'regression' },
      }),
    );
    for (const m of [bert, distil]) {
      tf.tidy(() => {
        const out = m.forward(batch, { training: false });
        expect(out.logits.shape).toEqual([2, 1]);
        const y = out.logits.dataSync();
        const mse = ((y[0]! - 0.5) ** 2 + (y[1]! - 4.2) ** 2) / 2;
        expect(out.loss!.dataSync()[0]!).toBeCloseTo(mse, 5);
      });
    }
    const tok = new WordPieceTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'a', 'b'], { maxLength: 8 });
    const p = predictTexts(bert, tok, ['a b'])[0]!;
    expect(p.label).toBe('');
    expect(p.score).toBe(p.logits[0]);
    bert.dispose();
    distil.dispose();
  });
});
