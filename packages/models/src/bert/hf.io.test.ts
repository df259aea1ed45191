import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { DistilleryError, readSafetensors, writeSafetensors } from '@distillery/core';
import { bertConfig, parseBertConfig } from './bert.config.js';
import { BertForSequenceClassification, BertForTokenClassification, BertModel } from './bert.model.js';
import { loadHfModel, saveHfModel } from './hf.io.js';
import { initStudentFromTeacher, makeStudentConfig } from './student.js';
import { bertAdaptor, bertScoresAdaptor, bertTokenAdaptor } from './adaptors.js';

const tiny = bertConfig({
  vocabSize: 50,
  hiddenSize: 16,
  numHiddenLayers: 4,
  numAttentionHeads: 2,
  intermediateSize: 32,
  maxPositionEmbeddings: 16,
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
const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('BertConfig', () => {
  it('validates with errors naming the field', () => {
    expect(() => parseBertConfig({ hidden_size: 30, num_attention_heads: 4 }, 'c.json')).toThrow(
      /c\.json: num_attention_heads: hidden_size 30 is not a multiple/,
    );
    expect(() => parseBertConfig({ hidden_act: 'gelu_neww' })).toThrow(/did you mean "gelu_new"/);
    expect(() => parseBertConfig({ vocab_size: -1 })).toThrow(/vocab_size: must be an integer/);
    expect(() => parseBertConfig({ model_type: 'gpt2' })).toThrow(DistilleryError);
    expect(parseBertConfig({ hidden_act: 'gelu_pytorch_tanh', num_labels: 4 }).hiddenAct).toBe('gelu_new');
    expect(parseBertConfig({ num_labels: 4 }).id2label).toEqual(['LABEL_0', 'LABEL_1', 'LABEL_2', 'LABEL_3']);
  });
});

describe('BERT models', () => {
  it('seeded init: HF scheme, same seed same weights, unique variable names per instance', () => {
    const m1 = new BertForSequenceClassification(tiny, { seed: 7 });
    const m2 = new BertForSequenceClassification(tiny, { seed: 7 });
    const p1 = m1.parameters();
    expect(Object.keys(p1)).toContain('bert.encoder.layer.3.output.LayerNorm.bias');
    expect(p1['classifier.weight']!.shape).toEqual([3, 16]);
    expect(p1['classifier.weight']!.name).not.toBe(m2.parameters()['classifier.weight']!.name);
    expect(bits(p1['bert.encoder.layer.0.attention.self.query.weight']!)).toEqual(
      bits(m2.parameters()['bert.encoder.layer.0.attention.self.query.weight']!),
    );
    expect(Array.from(p1['bert.embeddings.LayerNorm.weight']!.dataSync()).every((v) => v === 1)).toBe(true);
    expect(
      Array.from(tf.slice(p1['bert.embeddings.word_embeddings.weight']!, [0, 0], [1, 16]).dataSync()).every(
        (v) => v === 0,
      ),
    ).toBe(true);
    const std = tf.tidy(
      () => tf.sqrt(tf.moments(p1['bert.encoder.layer.0.intermediate.dense.weight']!).variance).dataSync()[0]!,
    );
    expect(std).toBeGreaterThan(0.017);
    expect(std).toBeLessThan(0.023);
    m1.dispose();
    m2.dispose();
  });

  it('forward: shapes, CE loss, dropout only in training, batch validation', () => {
    const m = new BertForSequenceClassification(tiny);
    tf.tidy(() => {
      const o = m.forward(batch, { training: false });
      expect(o.logits.shape).toEqual([2, 3]);
      expect(o.hiddenStates.map((h) => h.shape)).toEqual(Array(5).fill([2, 4, 16]));
      expect(o.attentions[3]!.shape).toEqual([2, 2, 4, 4]);
      expect(o.attentionScores).toBeUndefined();
      const expectedLoss = tf.losses
        .softmaxCrossEntropy(tf.oneHot(tf.tensor1d([2, 0], 'int32'), 3), o.logits)
        .dataSync()[0]!;
      expect(o.loss!.dataSync()[0]).toBeCloseTo(expectedLoss, 6);
      expect(o.logits.dataSync()).toEqual(m.forward(batch, { training: false }).logits.dataSync());
      expect(o.logits.dataSync()).not.toEqual(m.forward(batch, { training: true }).logits.dataSync());
      const lean = m.forward(batch, { training: false, outputAttentions: false, outputHiddenStates: false });
      expect([lean.attentions.length, lean.hiddenStates.length]).toEqual([0, 0]);
    });
    expect(() =>
      m.forward({ ...batch, inputIds: Int32Array.from([2, 70, 9, 3, 2, 5, 3, 0]) }, { training: false }),
    ).toThrow(/token id 70 .* outside the vocabulary/);
    expect(() => m.forward({ ...batch, seqLen: 3 }, { training: false })).toThrow(/batchSize\*seqLen/);
    m.dispose();
  });

  it('dropoutSeed makes training passes reproducible (pass n differs from pass n+1)', () => {
    const run = () => {
      const m = new BertForSequenceClassification(tiny, { seed: 1, dropoutSeed: 5 });
      const r = tf.tidy(() => [0, 1].map(() => Array.from(m.forward(batch, { training: true }).logits.dataSync())));
      m.dispose();
      return r;
    };
    const [a, b] = [run(), run()];
    expect(a).toEqual(b);
    expect(a[0]).not.toEqual(a[1]);
  });

  it('gradients match central finite differences (embeddings scatter, attention, FFN, head)', () => {
    // A wide init (std 0.5) makes every probed gradient large enough for float32 differences to resolve.
    const cfg = bertConfig({ ...tiny, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0, initializerRange: 0.5 });
    const m = new BertForSequenceClassification(cfg, { seed: 9 });
    const vars = m.parameters();
    const loss = () => m.forward(batch, { training: true }).loss!;
    const { grads } = tf.variableGrads(loss, Object.values(vars));
    const byName = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, grads[v.name]!]));
    const probes: [string, number][] = [
      ['bert.embeddings.word_embeddings.weight', 7 * 16 + 3], // id 7 occurs once in the batch
      ['bert.embeddings.word_embeddings.weight', 3 * 16 + 5], // [SEP] occurs twice: scatter must add
      ['bert.embeddings.position_embeddings.weight', 2 * 16 + 1],
      ['bert.encoder.layer.0.attention.self.query.weight', 1 * 16 + 2],
      ['bert.encoder.layer.1.intermediate.dense.weight', 5 * 16 + 4],
      ['bert.encoder.layer.3.output.LayerNorm.weight', 6],
      ['classifier.bias', 1],
    ];
    for (const [name, idx] of probes) {
      const v = vars[name]!;
      const orig = v.dataSync().slice() as Float32Array;
      const at = (delta: number) => {
        const w = orig.slice();
        w[idx]! += delta;
        v.assign(tf.tensor(w, v.shape));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      const eps = 1e-2;
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(tf.tensor(orig, v.shape));
      const an = byName[name]!.dataSync()[idx]!;
      expect(Math.abs(fd)).toBeGreaterThan(1e-3);
      expect(Math.abs(an - fd)).toBeLessThan(5e-4 + 3e-2 * Math.abs(fd));
    }
    tf.dispose(Object.values(grads));
    m.dispose();
  });

  it('token classification: [B, L, C] logits, loss ignores negative labels', () => {
    const m = new BertForTokenClassification(tiny);
    expect(Object.keys(m.weights()).some((k) => k.includes('pooler'))).toBe(false);
    tf.tidy(() => {
      const labels = Int32Array.from([0, 1, 2, -100, 1, -100, -100, -100]);
      const o = m.forward({ ...batch, labels }, { training: false });
      expect(o.logits.shape).toEqual([2, 4, 3]);
      const logp = tf.logSoftmax(o.logits).arraySync() as number[][][];
      const ref = -(logp[0]![0]![0]! + logp[0]![1]![1]! + logp[0]![2]![2]! + logp[1]![0]![1]!) / 4;
      expect(o.loss!.dataSync()[0]).toBeCloseTo(ref, 5);
      const a = bertTokenAdaptor({ ...batch, labels }, o);
      expect((a.labels as tf.Tensor).shape).toEqual([2, 4]);
      expect((a.logitsMask as tf.Tensor).shape).toEqual([2, 4]);
    });
    m.dispose();
  });

  it('frozen models have no variables and no gradients', () => {
    const m = new BertForSequenceClassification(tiny, { trainable: false });
    expect(Object.keys(m.parameters())).toHaveLength(0);
    const before = tf.memory().numTensors;
    const nVars = Object.keys(tf.engine().registeredVariables).length;
    tf.tidy(() => {
      m.forward(batch, { training: false });
    });
    expect(Object.keys(tf.engine().registeredVariables).length).toBe(nVars);
    // wasm caches transposed linear weights once; other backends multiply by Wᵀ directly.
    const cached = tf.getBackend() === 'wasm' ? 4 * 6 + 2 : 0;
    expect(tf.memory().numTensors - before).toBe(cached);
    tf.tidy(() => {
      m.forward(batch, { training: false });
    });
    expect(tf.memory().numTensors - before).toBe(cached); // and nothing more on later passes
    m.dispose();
  });

  it('adaptor maps outputs to the distiller fields', () => {
    const m = new BertForSequenceClassification(tiny, { outputAttentionScores: true });
    tf.tidy(() => {
      const o = m.forward(batch, { training: true });
      const a = bertAdaptor(batch, o);
      expect((a.logits as tf.Tensor).shape).toEqual([2, 3]);
      expect(a.hidden).toHaveLength(5);
      expect(a.attention).toHaveLength(4);
      expect(Array.from(a.inputsMask!.dataSync())).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
      expect(a.inputsMask!.dtype).toBe('float32');
      expect(Array.from((a.labels as tf.Tensor).dataSync())).toEqual([2, 0]);
      expect(a.losses).toEqual([o.loss]);
      expect(bertScoresAdaptor(batch, o).attention).toBe(o.attentionScores);
      expect(() => bertScoresAdaptor(batch, { ...o, attentionScores: undefined })).toThrow(/outputAttentionScores/);
    });
    m.dispose();
  });
});

describe('Hugging Face folders', () => {
  it('save → load round trip is bitwise exact; header has HF names and PyTorch shapes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-'));
    const m = new BertForSequenceClassification(tiny, { seed: 3 });
    await saveHfModel(m, dir, { tokenizerFiles: { 'vocab.txt': 'x\n' } });
    const header = JSON.parse(
      readFileSync(join(dir, 'model.safetensors'))
        .subarray(8, 8 + readFileSync(join(dir, 'model.safetensors')).readUInt32LE(0))
        .toString(),
    );
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(header['bert.encoder.layer.0.intermediate.dense.weight']).toMatchObject({ dtype: 'F32', shape: [32, 16] });
    expect(header['bert.encoder.layer.0.output.dense.weight'].shape).toEqual([16, 32]);
    expect(header['classifier.weight'].shape).toEqual([3, 16]);
    expect(
      Object.keys(header)
        .filter((k) => k !== '__metadata__')
        .sort(),
    ).toEqual(Object.keys(m.weights()).sort());
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({
      architectures: ['BertForSequenceClassification'],
      model_type: 'bert',
      hidden_size: 16,
      num_hidden_layers: 4,
      id2label: { '2': 'c' },
      label2id: { a: 0 },
    });
    expect(readFileSync(join(dir, 'vocab.txt'), 'utf8')).toBe('x\n');
    const back = await loadHfModel(dir);
    expect(back).toBeInstanceOf(BertForSequenceClassification);
    for (const [k, t] of Object.entries(m.weights())) expect(bits(back.weights()[k]!)).toEqual(bits(t));
    tf.tidy(() => {
      expect(back.forward(batch, { training: false }).logits.dataSync()).toEqual(
        m.forward(batch, { training: false }).logits.dataSync(),
      );
    });
    m.dispose();
    back.dispose();
  });

  it('load errors: missing weights (initMissing to allow), shape mismatch, unknown names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-'));
    const enc = new BertModel(tiny);
    await saveHfModel(enc, dir);
    await expect(loadHfModel(dir, { head: 'sequence' })).rejects.toThrow(
      /2 weight\(s\) missing: classifier.weight, classifier.bias[\s\S]*initMissing/,
    );
    const withHead = await loadHfModel(dir, { head: 'sequence', initMissing: true });
    expect(bits(withHead.weights()['bert.pooler.dense.weight']!)).toEqual(
      bits(enc.weights()['bert.pooler.dense.weight']!),
    );
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 64 }));
    await expect(loadHfModel(dir)).rejects.toThrow(
      /intermediate\.dense\.(weight|bias)" has shape \[32(,16)?\], config.json implies \[64(,16)?\]/,
    );
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    const st = await readSafetensors(join(dir, 'model.safetensors'));
    const tensors = Object.fromEntries([...st.tensors].map(([k, t]) => [k, { data: t.data, shape: t.shape }]));
    await writeSafetensors(join(dir, 'model.safetensors'), {
      ...tensors,
      'bert.embeddings.position_ids': { data: new Int32Array(16), shape: [1, 16], dtype: 'I64' },
      'foo.weight': { data: new Float32Array(1), shape: [1] },
    });
    await expect(loadHfModel(dir)).rejects.toThrow(/1 weight\(s\) do not belong .*: foo\.weight/);
    await expect(loadHfModel(join(dir, 'nope'))).rejects.toThrow(/no config\.json/);
    enc.dispose();
    withHead.dispose();
  });
});

describe('students', () => {
  it('makeStudentConfig keeps vocab/labels and scales the FFN', () => {
    const s = makeStudentConfig(tiny, { numHiddenLayers: 2, hiddenSize: 8 });
    expect([s.numHiddenLayers, s.hiddenSize, s.intermediateSize, s.vocabSize, s.id2label]).toEqual([
      2,
      8,
      16,
      50,
      ['a', 'b', 'c'],
    ]);
    expect(() => makeStudentConfig(tiny, { hiddenSize: 10, numAttentionHeads: 4 })).toThrow(/not a multiple/);
  });

  it('initStudentFromTeacher copies embeddings, every other layer and the head', () => {
    const t = new BertForSequenceClassification(tiny, { trainable: false, seed: 1 });
    const s = new BertForSequenceClassification(makeStudentConfig(tiny, { numHiddenLayers: 2 }), { seed: 2 });
    const r = initStudentFromTeacher(t, s);
    expect(r.layerMap).toEqual([0, 2]);
    expect(r.kept).toEqual([]);
    expect(bits(s.parameters()['bert.encoder.layer.1.attention.self.key.weight']!)).toEqual(
      bits(t.weights()['bert.encoder.layer.2.attention.self.key.weight']!),
    );
    expect(bits(s.parameters()['classifier.weight']!)).toEqual(bits(t.weights()['classifier.weight']!));
    expect(initStudentFromTeacher(t, s, { layerMap: [1, 3], copyHead: false }).kept).toEqual([
      'bert.pooler.dense.weight',
      'bert.pooler.dense.bias',
      'classifier.weight',
      'classifier.bias',
    ]);
    const narrow = new BertForSequenceClassification(makeStudentConfig(tiny, { numHiddenLayers: 2, hiddenSize: 8 }));
    expect(() => initStudentFromTeacher(t, narrow)).toThrow(
      /hidden_size is 16 in the teacher but 8 in the student[\s\S]*hint/,
    );
    const deep = new BertForSequenceClassification(makeStudentConfig(tiny, { numHiddenLayers: 3 }));
    expect(() => initStudentFromTeacher(t, deep)).toThrow(/teacher layer 4 does not exist/);
    for (const m of [t, s, narrow, deep]) m.dispose();
  });
});
