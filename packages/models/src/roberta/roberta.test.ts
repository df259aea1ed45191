import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { HfJsonTokenizer, loadTokenizer, padEncodings } from '@distillery/data';
import { loadHfModel, saveHfModel } from '../bert/hf.io.js';
import { robertaPositionIds } from '../bert/tasks.js';
import { predictTexts } from '../eval/predict.js';
import { RobertaForSequenceClassification, RobertaForTokenClassification, robertaConfig } from './roberta.model.js';
import { initStudentFromTeacher, makeStudentConfig } from '../bert/student.js';
import { BertForSequenceClassification } from '../bert/bert.model.js';
import { bertConfig } from '../bert/bert.config.js';

/** A tiny byte-level BPE tokenizer.json (GPT-2/RoBERTa layout) written for this test. */
function tinyBpe(): Record<string, unknown> {
  const vocab = [
    '<s>',
    '<pad>',
    '</s>',
    '<unk>',
    'h',
    'e',
    'l',
    'o',
    'Ġ',
    'w',
    'r',
    'd',
    'he',
    'll',
    'hell',
    'hello',
    'Ġw',
    'or',
    'ld',
    'Ġwor',
    'Ġworld',
  ];
  const special = (id: number) => ({
    id,
    content: vocab[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [0, 1, 2, 3].map(special),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
      trim_offsets: true,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      merges: ['h e', 'l l', 'he ll', 'hell o', 'Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld'],
    },
  };
}

const cfg = robertaConfig({
  vocabSize: 21,
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 32,
  maxPositionEmbeddings: 18,
  id2label: ['neg', 'pos'],
});
const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('RoBERTa-style models', () => {
  it('position ids: padding_idx + 1 onwards for real tokens, padding_idx on pads (create_position_ids_from_input_ids)', () => {
    expect(Array.from(robertaPositionIds(Int32Array.from([0, 15, 20, 2, 1, 1, 0, 15, 2, 1, 1, 1]), 2, 6, 1))).toEqual([
      2, 3, 4, 5, 1, 1, 2, 3, 4, 1, 1, 1,
    ]);
  });

  it('HF names (roberta.*, classifier.dense/out_proj, no pooler), shapes, padded rows equal unpadded ones', () => {
    const m = new RobertaForSequenceClassification(cfg, { seed: 1 });
    const names = Object.keys(m.parameters());
    expect(names).toContain('roberta.encoder.layer.1.attention.self.query.weight');
    expect(names).toContain('classifier.out_proj.weight');
    expect(names.some((n) => n.includes('pooler'))).toBe(false);
    expect(m.parameters()['roberta.embeddings.token_type_embeddings.weight']!.shape).toEqual([1, 16]);
    const one = {
      inputIds: Int32Array.from([0, 15, 2]),
      attentionMask: Int32Array.from([1, 1, 1]),
      tokenTypeIds: new Int32Array(3),
      batchSize: 1,
      seqLen: 3,
    };
    const padded = {
      inputIds: Int32Array.from([0, 15, 20, 2, 0, 15, 2, 1]),
      attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 0]),
      tokenTypeIds: new Int32Array(8),
      batchSize: 2,
      seqLen: 4,
    };
    tf.tidy(() => {
      const a = m.forward(one, { training: false }).logits.dataSync();
      const out = m.forward(padded, { training: false });
      expect(out.logits.shape).toEqual([2, 2]);
      expect(out.hiddenStates).toHaveLength(3);
      const b = out.logits.dataSync();
      expect(Math.abs(a[0]! - b[2]!)).toBeLessThan(1e-5);
      expect(Math.abs(a[1]! - b[3]!)).toBeLessThan(1e-5);
    });
    // 16 tokens + padding_idx + 1 = 18 positions: 17 tokens do not fit.
    const long = {
      inputIds: new Int32Array(17).fill(4),
      attentionMask: new Int32Array(17).fill(1),
      tokenTypeIds: new Int32Array(17),
      batchSize: 1,
      seqLen: 17,
    };
    expect(() => m.forward(long, { training: false })).toThrow(/exceeds the 16 positions/);
    m.dispose();
  });

  it('gradient check (central differences) on a position embedding and the head; training lowers the loss', () => {
    const m = new RobertaForSequenceClassification(cfg, { seed: 2 });
    const batch = {
      inputIds: Int32Array.from([0, 15, 20, 2, 0, 9, 17, 2]),
      attentionMask: new Int32Array(8).fill(1),
      tokenTypeIds: new Int32Array(8),
      labels: Int32Array.from([1, 0]),
      batchSize: 2,
      seqLen: 4,
    };
    const loss = () => m.forward(batch, { training: false }).loss!;
    for (const [name, idx] of [
      ['roberta.embeddings.position_embeddings.weight', 2 * 16 + 3],
      ['classifier.dense.weight', 7],
    ] as const) {
      const v = m.parameters()[name]!;
      const { value, grads } = tf.variableGrads(loss, [v]);
      const analytic = grads[v.name]!.dataSync()[idx]!;
      tf.dispose([value, grads]);
      const orig = v.dataSync().slice();
      const at = (d: number) => {
        const w = orig.slice();
        w[idx]! += d;
        v.assign(tf.tensor(w, v.shape));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      const numeric = (at(1e-2) - at(-1e-2)) / 2e-2;
      v.assign(tf.tensor(orig, v.shape));
      expect(Math.abs(analytic)).toBeGreaterThan(1e-6);
      expect(Math.abs(analytic - numeric)).toBeLessThan(1e-3 + 0.02 * Math.abs(numeric));
    }
    const opt = tf.train.adam(0.01);
    const first = tf.tidy(() => loss().dataSync()[0]!);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 15; i++)
      tf.tidy(() =>
        opt.minimize(() => m.forward(batch, { training: true }).loss!, false, Object.values(m.parameters())),
      );
    const last = tf.tidy(() => loss().dataSync()[0]!);
    expect(last).toBeLessThan(first);
    opt.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2 * Object.keys(m.parameters()).length + 2); // Adam slots
    m.dispose();
  });

  it('byte-level BPE: a long text encodes as its full tokenization cut to maxLength (whitespace-cut prefixes are exact)', () => {
    const tok = new HfJsonTokenizer(tinyBpe(), {}, 12);
    for (const text of [
      'hello world  '.repeat(50) + 'hello',
      'hello\n\n world\t'.repeat(80),
      'helloworld '.repeat(3) + 'world'.repeat(300),
    ]) {
      const full = tok.tokenize(text);
      expect(tok.encode(text).tokens).toEqual(['<s>', ...full.slice(0, 10), '</s>']);
    }
  });

  it('byte-level BPE tokenizer.json: ids, RobertaProcessing pairs (one token type), words with prefix spaces; folder save → load → predict', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roberta-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyBpe()));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 16, pad_token: '<pad>' }));
    const tok = loadTokenizer(dir);
    expect(tok.encode('hello world').ids).toEqual([0, 15, 20, 2]);
    expect(tok.padId).toBe(1);
    const pair = tok.encodePair!('hello', 'world');
    expect(pair.ids).toEqual([0, 15, 2, 2, 9, 17, 18, 2]);
    expect(pair.typeIds).toEqual(new Array(8).fill(0));
    const words = tok.encodeWords!(['hello', 'world']);
    expect(words.ids).toEqual([0, 8, 15, 20, 2]);
    expect(words.wordIds).toEqual([null, 0, 0, 1, null]);
    expect(Array.from(padEncodings([tok.encode('hello'), tok.encode('hello world')], tok.padId).inputIds)).toEqual([
      0, 15, 2, 1, 0, 15, 20, 2,
    ]);

    const m = new RobertaForSequenceClassification(cfg, { seed: 3 });
    await saveHfModel(m, dir);
    const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(json.model_type).toBe('roberta');
    expect(json.architectures).toEqual(['RobertaForSequenceClassification']);
    expect(json.pad_token_id).toBe(1);
    const back = await loadHfModel(dir, { trainable: false });
    expect(back).toBeInstanceOf(RobertaForSequenceClassification);
    for (const [k, t] of Object.entries(m.weights())) expect(bits(back.weights()[k]!)).toEqual(bits(t));
    const p1 = predictTexts(m, tok, ['hello world', 'hello']);
    const p2 = predictTexts(back, tok, ['hello world', 'hello']);
    expect(p2.map((p) => p.logits)).toEqual(p1.map((p) => p.logits));
    const tokDir = mkdtempSync(join(tmpdir(), 'roberta-tok-'));
    const tokModel = new RobertaForTokenClassification(cfg);
    await saveHfModel(tokModel, tokDir);
    const tokBack = await loadHfModel(tokDir);
    expect(tokBack).toBeInstanceOf(RobertaForTokenClassification);
    expect(JSON.parse(readFileSync(join(tokDir, 'config.json'), 'utf8')).architectures).toEqual([
      'RobertaForTokenClassification',
    ]);
    tokModel.dispose();
    tokBack.dispose();
    m.dispose();
    back.dispose();
  });

  it('a smaller RoBERTa student copies mapped teacher layers (roberta.* names); mixing families is refused', () => {
    const teacher = new RobertaForSequenceClassification(cfg, { seed: 5, trainable: false });
    const sc = makeStudentConfig(cfg, { numHiddenLayers: 1 });
    expect(sc.extra.model_type).toBe('roberta');
    const student = new RobertaForSequenceClassification(sc);
    const r = initStudentFromTeacher(teacher, student, { layerMap: [1] });
    expect(r.copied).toContain('roberta.encoder.layer.0.output.dense.weight');
    expect(bits(student.weights()['roberta.encoder.layer.0.output.dense.weight']!)).toEqual(
      bits(teacher.weights()['roberta.encoder.layer.1.output.dense.weight']!),
    );
    expect(bits(student.weights()['classifier.out_proj.weight']!)).toEqual(
      bits(teacher.weights()['classifier.out_proj.weight']!),
    );
    const bert = new BertForSequenceClassification(
      bertConfig({
        vocabSize: 21,
        hiddenSize: 16,
        numHiddenLayers: 1,
        numAttentionHeads: 2,
        intermediateSize: 32,
        maxPositionEmbeddings: 18,
      }),
    );
    expect(() => initStudentFromTeacher(teacher, bert)).toThrow(/roberta teacher into a bert student/);
    teacher.dispose();
    student.dispose();
    bert.dispose();
  });
});
