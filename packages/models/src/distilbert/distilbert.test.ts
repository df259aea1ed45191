import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadTokenizer } from '@distillery/data';
import { loadHfModel, saveHfModel } from '../bert/hf.io.js';
import { BertForSequenceClassification } from '../bert/bert.model.js';
import { bertConfig } from '../bert/bert.config.js';
import { bertAdaptor } from '../bert/adaptors.js';
import { predictTexts } from '../eval/predict.js';
import { distilBertConfig, distilBertConfigFromBert, parseDistilBertConfig } from './distilbert.config.js';
import { DistilBertForSequenceClassification, DistilBertForTokenClassification } from './distilbert.model.js';
import { initDistilBertFromBert } from './distilbert.io.js';
import type { EncoderModel } from '../hf/encoder.types.js';

const dir = sharedPath('models', 'clinc-distilbert-tiny');
const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.skipIf(!dir)(
  `clinc-distilbert-tiny reproduces expected.json (${dir ? 'shared present' : SHARED_SKIP_MESSAGE})`,
  () => {
    let model: EncoderModel;
    const expected = dir ? JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) : {};
    const batches: {
      texts: string[];
      input_ids: number[][];
      logits: number[][];
      predicted_labels: string[];
      'hidden_states_2[0,0,:8]': number[];
    }[] = dir ? [expected, ...expected.batches] : [];
    beforeAll(async () => {
      model = await loadHfModel(dir!, { trainable: false });
    });
    afterAll(() => model?.dispose());

    it('dispatches on model_type and has the HF names', () => {
      expect(model).toBeInstanceOf(DistilBertForSequenceClassification);
      expect(model.family).toBe('distilbert');
      expect(Object.keys(model.weights())).toContain('distilbert.transformer.layer.1.ffn.lin2.weight');
      expect(model.config.numLabels).toBe(151);
    });

    it('input ids, logits (1e-4), hidden state, labels for every batch; predict; no leaks', () => {
      const tok = loadTokenizer(dir!);
      tf.tidy(() => void model.forward(tok.encodeBatch(['warm up']), { training: false }));
      const before = tf.memory().numTensors;
      let maxDiff = 0;
      for (const b of batches) {
        const batch = tok.encodeBatch(b.texts);
        expect(Array.from(batch.inputIds)).toEqual(b.input_ids.flat());
        tf.tidy(() => {
          const out = model.forward(batch, { training: false });
          const logits = out.logits.arraySync() as number[][];
          logits.forEach((row, i) =>
            row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - b.logits[i]![j]!)))),
          );
          const h = Array.from(tf.slice(out.hiddenStates[2]!, [0, 0, 0], [1, 1, 8]).dataSync());
          h.forEach((v, j) => expect(Math.abs(v - b['hidden_states_2[0,0,:8]'][j]!)).toBeLessThan(1e-4));
          expect(out.hiddenStates).toHaveLength(3);
          expect(out.attentions[0]!.shape).toEqual([b.texts.length, 2, batch.seqLen, batch.seqLen]);
        });
        expect(predictTexts(model, tok, b.texts).map((p) => p.label)).toEqual(b.predicted_labels);
      }
      console.log(`distilbert: max |logit - expected| over ${batches.length} batches: ${maxDiff.toExponential(2)}`);
      expect(maxDiff).toBeLessThan(1e-4);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('save → load round trip is bit-exact and keeps the layout', async () => {
      const out = mkdtempSync(join(tmpdir(), 'distil-'));
      await saveHfModel(model, out, { copyTokenizerFrom: dir });
      const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(cfg.model_type).toBe('distilbert');
      expect(cfg.architectures).toEqual(['DistilBertForSequenceClassification']);
      expect(cfg.dim).toBe(128);
      const back = await loadHfModel(out, { trainable: false });
      for (const [k, t] of Object.entries(model.weights())) expect(bits(back.weights()[k]!)).toEqual(bits(t));
      back.dispose();
    });
  },
);

describe('DistilBERT', () => {
  const tiny = distilBertConfig({
    vocabSize: 40,
    hiddenSize: 16,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 32,
    maxPositionEmbeddings: 12,
    id2label: ['a', 'b', 'c'],
  });
  const batch = {
    inputIds: Int32Array.from([2, 7, 9, 3, 2, 5, 3, 0]),
    attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 0]),
    tokenTypeIds: new Int32Array(8),
    labels: Int32Array.from([2, 0]),
    batchSize: 2,
    seqLen: 4,
  };

  it('config: HF field names, errors name the field', () => {
    expect(() => parseDistilBertConfig({ dim: 30, n_heads: 4 }, 'c.json')).toThrow(/c\.json: n_heads/);
    expect(() => parseDistilBertConfig({ activation: 'gelux' })).toThrow(/did you mean "gelu"/);
    expect(parseDistilBertConfig({ n_layers: 3, num_labels: 5 }).numHiddenLayers).toBe(3);
  });

  it('padding does not change real rows (float32-min masking), gradients reach every weight, no leaks', () => {
    const m = new DistilBertForSequenceClassification(tiny, { seed: 3 });
    const one = {
      inputIds: Int32Array.from([2, 5, 3]),
      attentionMask: Int32Array.from([1, 1, 1]),
      tokenTypeIds: new Int32Array(3),
      batchSize: 1,
      seqLen: 3,
    };
    const a = tf.tidy(() => Array.from(m.forward(one, { training: false }).logits.dataSync()));
    const b = tf.tidy(() => Array.from(m.forward(batch, { training: false }).logits.dataSync()).slice(3, 6));
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => m.forward(batch, { training: true }).loss!);
    for (const v of Object.values(m.parameters()))
      expect(tf.tidy(() => tf.sum(tf.abs(grads[v.name]!)).dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([value, grads]);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('gradient check: analytic vs central differences on one weight', () => {
    const m = new DistilBertForSequenceClassification(tiny, { seed: 5 });
    const v = m.parameters()['distilbert.transformer.layer.0.attention.q_lin.weight']!;
    const loss = () => m.forward(batch, { training: false }).loss!;
    const { value, grads } = tf.variableGrads(loss, [v]);
    value.dispose();
    const analytic = grads[v.name]!.dataSync()[5]!;
    const eps = 1e-2;
    const orig = v.dataSync().slice();
    const at = (delta: number) => {
      const w = orig.slice();
      w[5]! += delta;
      v.assign(tf.tensor(w, v.shape));
      return tf.tidy(() => loss().dataSync()[0]!);
    };
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    v.assign(tf.tensor(orig, v.shape));
    expect(Math.abs(analytic - numeric)).toBeLessThan(2e-3 + 0.02 * Math.abs(numeric));
    tf.dispose(grads);
    m.dispose();
  });

  it('token head and adaptor shapes', () => {
    const m = new DistilBertForTokenClassification(tiny);
    tf.tidy(() => {
      const out = m.forward(
        { ...batch, labels: Int32Array.from([-100, 1, 2, -100, -100, 0, -100, -100]) },
        { training: false },
      );
      expect(out.logits.shape).toEqual([2, 4, 3]);
      expect(out.loss!.dataSync()[0]).toBeGreaterThan(0);
      expect(bertAdaptor(batch, out).hidden).toHaveLength(3);
    });
    m.dispose();
  });

  it('a DistilBERT student from a BERT teacher (every other layer) reproduces a matching teacher exactly', () => {
    const tc = bertConfig({
      vocabSize: 40,
      hiddenSize: 16,
      numHiddenLayers: 2,
      numAttentionHeads: 2,
      intermediateSize: 32,
      maxPositionEmbeddings: 12,
      id2label: ['a', 'b', 'c'],
    });
    const teacher = new BertForSequenceClassification(tc, { seed: 9, trainable: false });
    const sc = distilBertConfigFromBert(tc, { numHiddenLayers: 1 });
    const student = new DistilBertForSequenceClassification(sc);
    const r = initDistilBertFromBert(teacher, student);
    expect(r.layerMap).toEqual([0]);
    expect(r.copied).toContain('distilbert.transformer.layer.0.attention.q_lin.weight');
    // Same layer, same embeddings (token type 0 folded in): hidden state 1 equals the teacher's.
    tf.tidy(() => {
      const ht = teacher.forward(batch, { training: false }).hiddenStates[1]!;
      const hs = student.forward(batch, { training: false }).hiddenStates[1]!;
      // Only real tokens: the two families mask padded keys differently (-10000 vs float32 min).
      const diff = tf
        .max(tf.abs(tf.sub(tf.slice(ht, [0, 0, 0], [1, 4, 16]), tf.slice(hs, [0, 0, 0], [1, 4, 16]))))
        .dataSync()[0]!;
      expect(diff).toBeLessThan(1e-5);
    });
    teacher.dispose();
    student.dispose();
  });
});

describe('DistilBERT sinusoidal positions', () => {
  it('sinusoidal_pos_embds: fixed sin/cos table, not a trainable parameter (as transformers freezes it)', () => {
    const c = distilBertConfig({
      vocabSize: 20,
      hiddenSize: 8,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      intermediateSize: 16,
      maxPositionEmbeddings: 6,
      sinusoidalPosEmbds: true,
    });
    const m = new DistilBertForSequenceClassification(c);
    const pos = m.weights()['distilbert.embeddings.position_embeddings.weight']!.arraySync() as number[][];
    expect(pos[0]!.filter((_, j) => j % 2 === 0).every((v) => v === 0)).toBe(true);
    expect(pos[3]![0]).toBeCloseTo(Math.sin(3), 6);
    expect(pos[3]![3]).toBeCloseTo(Math.cos(3 / Math.pow(10000, 2 / 8)), 6);
    expect(Object.keys(m.parameters())).not.toContain('distilbert.embeddings.position_embeddings.weight');
    expect(Object.keys(m.parameters()).length).toBe(m.weightShapes().length - 1);
    m.dispose();
  });
});
