import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { readSafetensors, writeSafetensors } from '@distillery/core';
import { bertConfig } from './bert.config.js';
import { BertForMaskedLM } from './mlm.model.js';
import { loadHfModel, saveHfModel } from './hf.io.js';
import { distilBertConfig } from '../distilbert/distilbert.config.js';
import { DistilBertForMaskedLM } from '../distilbert/distilbert.model.js';
import { bertMlmAdaptor } from './mlm.adaptor.js';

const tiny = bertConfig({
  vocabSize: 50,
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 32,
  maxPositionEmbeddings: 16,
});
const batch = {
  inputIds: Int32Array.from([2, 4, 9, 3, 2, 5, 4, 0]),
  attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 0]),
  tokenTypeIds: new Int32Array(8),
  labels: Int32Array.from([-100, 7, -100, -100, -100, -100, 11, -100]),
  batchSize: 2,
  seqLen: 4,
};
const tmp = () => mkdtempSync(join(tmpdir(), 'mlm-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('BertForMaskedLM', () => {
  it('has the HF weight names; the decoder is the word embeddings; no pooler', () => {
    const m = new BertForMaskedLM(tiny, { seed: 1 });
    const names = m.weightShapes().map(([n]) => n);
    expect(names).toContain('cls.predictions.transform.dense.weight');
    expect(names).toContain('cls.predictions.transform.LayerNorm.weight');
    expect(names).toContain('cls.predictions.bias');
    expect(names.some((n) => n.includes('pooler') || n.includes('decoder'))).toBe(false);
    expect(m.hfConfig().architectures).toEqual(['BertForMaskedLM']);
    m.dispose();
  });

  it('masked-only logits equal the full logits at the masked rows; loss is CE there; no tensor leaks', () => {
    const m = new BertForMaskedLM(tiny, { seed: 1 });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const only = m.forward(batch, { training: false });
      const full = m.forward(batch, { training: false, maskedOnly: false });
      expect(only.logits.shape).toEqual([2, 50]);
      expect(full.logits.shape).toEqual([2, 4, 50]);
      const rows = tf.gather(tf.reshape(full.logits, [8, 50]), tf.tensor1d([1, 6], 'int32'));
      expect(tf.max(tf.abs(tf.sub(rows, only.logits))).dataSync()[0]).toBeLessThan(1e-5);
      const ce = tf.losses
        .softmaxCrossEntropy(tf.oneHot(tf.tensor1d([7, 11], 'int32'), 50), only.logits)
        .dataSync()[0]!;
      expect(only.loss!.dataSync()[0]).toBeCloseTo(ce, 5);
      expect(full.loss!.dataSync()[0]).toBeCloseTo(ce, 5);
      // Adaptor: masked-only → 2-D logits and labels [M]; full → logitsMask at the masked positions.
      const a = bertMlmAdaptor(batch, only);
      expect(a.logitsMask).toBeUndefined();
      expect(Array.from((a.labels as tf.Tensor).dataSync())).toEqual([7, 11]);
      const b = bertMlmAdaptor(batch, full);
      expect(Array.from((b.logitsMask as tf.Tensor).dataSync())).toEqual([0, 1, 0, 0, 0, 0, 1, 0]);
    });
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('gradients reach the tied word embeddings through the decoder', () => {
    const m = new BertForMaskedLM(tiny, { seed: 1, outputAttentions: false });
    const emb = m.parameters()['bert.embeddings.word_embeddings.weight']!;
    const { grads } = tf.variableGrads(() => m.forward(batch, { training: false }).loss!, [emb]);
    // Row 30 is never an input id: only the decoder gives it a gradient.
    const g = tf.tidy(() => tf.sum(tf.abs(tf.slice(grads[emb.name]!, [30, 0], [1, 16]))).dataSync()[0]!);
    expect(g).toBeGreaterThan(0);
    tf.dispose(grads);
    m.dispose();
  });

  it('round-trips an HF folder (loadHfModel picks the MLM head from architectures); a tied decoder copy in the file is accepted', async () => {
    const m = new BertForMaskedLM(tiny, { seed: 3 });
    const dir = tmp();
    await saveHfModel(m, dir);
    const st = await readSafetensors(join(dir, 'model.safetensors'));
    const names = [...st.tensors.keys()];
    expect(names).toContain('cls.predictions.bias');
    expect(names).not.toContain('cls.predictions.decoder.weight');
    const back = await loadHfModel(dir, { trainable: false });
    expect(back.head).toBe('mlm');
    const diff = tf.tidy(
      () =>
        tf
          .max(
            tf.abs(
              tf.sub(m.forward(batch, { training: false }).logits, back.forward(batch, { training: false }).logits),
            ),
          )
          .dataSync()[0],
    );
    expect(diff).toBe(0);
    // transformers' own files may carry the tied copies: they are skipped.
    const tensors = Object.fromEntries(
      [...st.tensors].map(([k, t]) => [k, { data: t.data as Float32Array, shape: t.shape, dtype: 'F32' as const }]),
    );
    const emb = st.tensors.get('bert.embeddings.word_embeddings.weight')!;
    tensors['cls.predictions.decoder.weight'] = { data: emb.data as Float32Array, shape: emb.shape, dtype: 'F32' };
    tensors['cls.predictions.decoder.bias'] = tensors['cls.predictions.bias']!;
    await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
    const again = await BertForMaskedLM.fromPretrained(dir, { trainable: false });
    expect(again.weightShapes().length).toBe(m.weightShapes().length);
    // A bare-encoder load of the same folder ignores the head and (as transformers' AutoModel) initialises the pooler.
    const enc = await loadHfModel(dir, { head: 'none', trainable: false, initMissing: true });
    expect(enc.head).toBe('none');
    for (const x of [m, back, again, enc]) x.dispose();
  });

  it('DistilBertForMaskedLM: vocab_transform / vocab_layer_norm / vocab_projector (tied), HF round trip', async () => {
    const c = distilBertConfig({
      vocabSize: 50,
      hiddenSize: 16,
      numHiddenLayers: 2,
      numAttentionHeads: 2,
      intermediateSize: 32,
      maxPositionEmbeddings: 16,
    });
    const m = new DistilBertForMaskedLM(c, { seed: 2 });
    const names = m.weightShapes().map(([n]) => n);
    expect(names).toEqual(
      expect.arrayContaining(['vocab_transform.weight', 'vocab_layer_norm.weight', 'vocab_projector.bias']),
    );
    expect(names).not.toContain('vocab_projector.weight');
    const dir = tmp();
    await saveHfModel(m, dir);
    const back = await loadHfModel(dir, { trainable: false });
    expect(back.head).toBe('mlm');
    expect(back.hfConfig().architectures).toEqual(['DistilBertForMaskedLM']);
    const diff = tf.tidy(
      () =>
        tf
          .max(
            tf.abs(
              tf.sub(m.forward(batch, { training: false }).logits, back.forward(batch, { training: false }).logits),
            ),
          )
          .dataSync()[0],
    );
    expect(diff).toBe(0);
    m.dispose();
    back.dispose();
  });
});
