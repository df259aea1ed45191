import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadTokenizer, type EncodedBatch } from '@distillery/data';
import {
  BertForSequenceClassification,
  BertForTokenClassification,
  makeStudentConfig,
  readHfConfig,
  saveHfModel,
} from '@distillery/models';
import { exportBertOnnx } from './bert.js';
import { exportModel, readGraph } from './write.js';
import { loadTfjsGraphModelDir } from './tfjs-write.js';
import { OnnxSession } from '../session.js';
import { OnnxTeacher } from '../teacher.js';
import { encodeModel, onnx, toNum } from '../proto.js';
import { quantizeInt8 } from '../quantize/int8.js';
import { fromHalfBits, toHalfBits } from '../quantize/fp16.js';

const dir = sharedPath('models', 'clinc-bert-teacher');

const feeds = (b: EncodedBatch) => {
  const dims = [b.batchSize, b.seqLen];
  return {
    input_ids: { data: b.inputIds, dims },
    attention_mask: { data: b.attentionMask, dims },
    token_type_ids: { data: b.tokenTypeIds, dims },
  };
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

describe('exportBertOnnx on random students (no shared data needed)', () => {
  beforeAll(() => tf.setBackend('cpu'));
  const batch: EncodedBatch = {
    inputIds: new Int32Array([2, 17, 40, 3, 0, 2, 9, 11, 12, 3]),
    attentionMask: new Int32Array([1, 1, 1, 1, 0, 1, 1, 1, 1, 1]),
    tokenTypeIds: new Int32Array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1]),
    batchSize: 2,
    seqLen: 5,
  };
  const base = {
    vocab_size: 50,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 64,
    max_position_embeddings: 16,
    num_labels: 3,
  };

  for (const act of ['gelu', 'gelu_new', 'relu']) {
    it(`${act}: logits, hidden states and attentions equal tfjs within 1e-4`, async () => {
      const { parseBertConfig } = await import('@distillery/models');
      const m = new BertForSequenceClassification(parseBertConfig({ ...base, hidden_act: act }), {
        trainable: false,
        seed: 7,
      });
      const s = await OnnxSession.create(
        `${act}.onnx`,
        {},
        encodeModel(exportBertOnnx(m, { hiddenStates: true, attentions: true })),
      );
      try {
        expect(s.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
        expect(s.inputs[0]!.shape).toEqual(['batch', 'sequence']);
        const r = await s.run(feeds(batch));
        tf.tidy(() => {
          const o = m.forward(batch, { training: false });
          expect(maxDiff(r.logits!.data as Float32Array, o.logits.dataSync())).toBeLessThan(1e-4);
          o.hiddenStates.forEach((h, i) =>
            expect(maxDiff(r[`hidden_states_${i}`]!.data as Float32Array, h.dataSync())).toBeLessThan(1e-4),
          );
          o.attentions.forEach((a, i) =>
            expect(maxDiff(r[`attentions_${i}`]!.data as Float32Array, a.dataSync())).toBeLessThan(1e-4),
          );
        });
      } finally {
        await s.dispose();
        m.dispose();
      }
    });
  }

  it('token classifier: logits [batch, sequence, labels]; dynamic batch and sequence', async () => {
    const { parseBertConfig } = await import('@distillery/models');
    const m = new BertForTokenClassification(parseBertConfig(base), { trainable: false });
    const s = await OnnxSession.create('tok.onnx', {}, encodeModel(exportBertOnnx(m)));
    try {
      for (const b of [
        batch,
        {
          ...batch,
          inputIds: batch.inputIds.slice(0, 3),
          attentionMask: batch.attentionMask.slice(0, 3),
          tokenTypeIds: batch.tokenTypeIds.slice(0, 3),
          batchSize: 1,
          seqLen: 3,
        },
      ]) {
        const r = await s.run(feeds(b));
        expect(r.logits!.dims).toEqual([b.batchSize, b.seqLen, 3]);
        const ref = tf.tidy(() => m.forward(b, { training: false }).logits.dataSync());
        expect(maxDiff(r.logits!.data as Float32Array, ref)).toBeLessThan(1e-4);
      }
    } finally {
      await s.dispose();
      m.dispose();
    }
  });

  it('quantizing a graph without MatMul is refused with a clear error', () => {
    const m = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ version: 17 }],
      graph: {
        name: 'add',
        node: [{ opType: 'Add', input: ['x', 'x'], output: ['y'] }],
        input: [{ name: 'x' }],
        output: [{ name: 'y' }],
      },
    });
    expect(() => quantizeInt8(m, { where: 'add.onnx' })).toThrow(
      /add\.onnx: the graph has no MatMul or Gemm with a constant weight/,
    );
  });

  it('float16 conversion rounds to nearest even', () => {
    for (const v of [0, 1, -2.5, 0.1, 65504, 1e-5, 6e-8, -3.14159])
      expect(Math.abs(fromHalfBits(toHalfBits(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25);
    expect(fromHalfBits(toHalfBits(1e6))).toBe(Infinity);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
  });
});

describe.skipIf(!dir)(`export of the shared CLINC150 teacher (${dir ? 'shared present' : SHARED_SKIP_MESSAGE})`, () => {
  let out: string;
  let model: BertForSequenceClassification;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    out = mkdtempSync(join(tmpdir(), 'onnx-export-'));
    model = await BertForSequenceClassification.fromPretrained(dir!, { trainable: false });
  });
  afterAll(() => model?.dispose());

  it('writes the transformers.js layout; fp32 reproduces tfjs within 1e-4 on expected.json; int8 ≥ 3× smaller', async () => {
    const res = await exportModel(dir!, join(out, 'tjs'), { quantize: 'int8' });
    const [fp32, int8] = res.files;
    expect(fp32!.path).toBe(join(out, 'tjs', 'onnx', 'model.onnx'));
    expect(int8!.path).toBe(join(out, 'tjs', 'onnx', 'model_quantized.onnx'));
    expect(fp32!.maxAbsDiff).toBeLessThan(1e-4);
    expect(int8!.labelAgreement).toBeGreaterThanOrEqual(5 / 6);
    expect(fp32!.bytes / int8!.bytes).toBeGreaterThanOrEqual(3);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json'])
      expect(statSync(join(out, 'tjs', f)).size).toBeGreaterThan(0);

    const m = onnx.ModelProto.decode(readFileSync(fp32!.path));
    expect(toNum(m.opsetImport[0]!.version as number)).toBeGreaterThanOrEqual(14);
    const ops = new Set(readGraph(int8!.path).node!.map((n) => n.opType));
    expect([...ops]).toEqual(expect.arrayContaining(['DynamicQuantizeLinear', 'MatMulInteger', 'DequantizeLinear']));
    expect(ops.has('MatMul')).toBe(true); // q·kᵀ and probs·v stay float
    // ORT's optimiser fuses the int8 chains into its DynamicQuantizeMatMul / MatMulIntegerToFloat kernels.
    const ortMod = await import('onnxruntime-node');
    const optPath = join(out, 'optimized.onnx');
    await (
      await ortMod.InferenceSession.create(int8!.path, {
        graphOptimizationLevel: 'all',
        optimizedModelFilePath: optPath,
        logSeverityLevel: 3,
      })
    ).release();
    const fused = new Set(readGraph(optPath).node!.map((n) => n.opType));
    expect(fused.has('DynamicQuantizeMatMul') || fused.has('MatMulIntegerToFloat')).toBe(true);
    expect(fused.has('MatMulInteger')).toBe(false);

    // Real inputs: every batch of expected.json, loaded back in onnxruntime-node.
    const expected = JSON.parse(readFileSync(join(dir!, 'expected.json'), 'utf8'));
    const tok = loadTokenizer(dir!);
    const t = await OnnxTeacher.create(fp32!.path);
    try {
      for (const b of [expected, ...expected.batches] as { texts: string[]; logits: number[][] }[]) {
        const batch = tok.encodeBatch(b.texts);
        const o = await t.forward(batch, { training: false });
        const ref = tf.tidy(() =>
          model
            .forward(batch, { training: false, outputAttentions: false, outputHiddenStates: false })
            .logits.dataSync(),
        );
        expect(maxDiff(o.logits.dataSync(), ref)).toBeLessThan(1e-4);
        expect(maxDiff(o.logits.dataSync(), b.logits.flat())).toBeLessThan(1e-4);
        o.logits.dispose();
      }
    } finally {
      t.dispose();
    }
  });

  it('--out file.onnx with fp16 writes one file about half the size, same labels', async () => {
    const res = await exportModel(dir!, join(out, 'half.onnx'), { quantize: 'fp16' });
    expect(res.files).toHaveLength(1);
    expect(res.files[0]!.kind).toBe('fp16');
    expect(res.files[0]!.bytes).toBeLessThan(0.55 * statSync(join(dir!, 'model.onnx')).size);
    expect(res.files[0]!.labelAgreement).toBe(1);
    expect(res.files[0]!.maxAbsDiff).toBeLessThan(0.05);
  });

  it('per-tensor int8 works too; a distilled-size student folder exports', async () => {
    const student = new BertForSequenceClassification(makeStudentConfig(readHfConfig(dir!), { numHiddenLayers: 2 }), {
      trainable: false,
    });
    const sdir = join(out, 'student');
    await saveHfModel(student, sdir, { copyTokenizerFrom: dir! });
    student.dispose();
    const res = await exportModel(sdir, join(out, 'student.onnx'), { quantize: 'int8', perChannel: false });
    expect(res.files[0]!.kind).toBe('int8');
    const g = readGraph(res.files[0]!.path);
    const scale = g.initializer!.find((t) => t.name === 'bert.encoder.layer.0.attention.self.query.weight_scale')!;
    expect(scale.dims).toEqual([]);
  });

  it('names an unsupported architecture; refuses a folder without tokenizer.json for transformers.js', async () => {
    const bad = join(out, 'distilbert');
    mkdirSync(bad);
    writeFileSync(
      join(bad, 'config.json'),
      JSON.stringify({ architectures: ['DistilBertForSequenceClassification'], model_type: 'distilbert' }),
    );
    await expect(exportModel(bad, join(out, 'x.onnx'))).rejects.toThrow(
      /architectures: architecture "DistilBertForSequenceClassification" has layers the ONNX exporter does not support/,
    );
    const rel = join(out, 'relative');
    mkdirSync(rel);
    writeFileSync(
      join(rel, 'config.json'),
      JSON.stringify({
        architectures: ['BertForSequenceClassification'],
        model_type: 'bert',
        position_embedding_type: 'relative_key',
      }),
    );
    await expect(exportModel(rel, join(out, 'r.onnx'))).rejects.toThrow(
      /position_embedding_type: layer "bert\.embeddings\.position_embeddings \(relative position embeddings\)" \(position_embedding_type: "relative_key"\) is not supported/,
    );
    const noTok = join(out, 'notok');
    mkdirSync(noTok);
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) copyFileSync(join(dir!, f), join(noTok, f));
    await expect(exportModel(noTok, join(out, 'notok-out'), { validate: false })).rejects.toThrow(
      /transformers\.js needs tokenizer\.json/,
    );
  });

  it('--format tfjs writes a tf.loadGraphModel folder (model.json + 4 MB shards) equal to the model within 1e-4', async () => {
    const res = await exportModel(dir!, join(out, 'tfjs'), { format: 'tfjs' });
    expect(res.files[0]!.kind).toBe('tfjs');
    expect(res.files[0]!.maxAbsDiff).toBeLessThan(1e-4);
    const mj = JSON.parse(readFileSync(join(out, 'tfjs', 'model.json'), 'utf8'));
    expect(mj.format).toBe('graph-model');
    expect(mj.weightsManifest[0].paths.length).toBe(4);
    const gm = await loadTfjsGraphModelDir(join(out, 'tfjs'));
    const expected = JSON.parse(readFileSync(join(dir!, 'expected.json'), 'utf8'));
    const tok = loadTokenizer(dir!);
    try {
      for (const b of [expected, ...expected.batches] as { texts: string[]; logits: number[][] }[]) {
        const batch = tok.encodeBatch(b.texts);
        const got = tf.tidy(() => {
          const t = (d: Int32Array) => tf.tensor2d(d, [batch.batchSize, batch.seqLen], 'int32');
          return (
            gm.execute(
              {
                input_ids: t(batch.inputIds),
                attention_mask: t(batch.attentionMask),
                token_type_ids: t(batch.tokenTypeIds),
              },
              'logits',
            ) as tf.Tensor
          ).dataSync();
        });
        expect(maxDiff(got, b.logits.flat())).toBeLessThan(1e-4);
      }
    } finally {
      gm.dispose();
    }
    await expect(exportModel(dir!, join(out, 'tfjs2'), { format: 'tfjs', quantize: 'int8' })).rejects.toThrow(
      /--quantize int8 applies to ONNX exports/,
    );
  });

  it('quantizes an existing (PyTorch-made) .onnx file; refuses a graph without MatMul and a truncated file', async () => {
    const src = join(dir!, 'model.onnx');
    const res = await exportModel(src, join(out, 'pt-int8.onnx'), { quantize: 'int8' });
    const f = res.files[0]!;
    expect(statSync(src).size / f.bytes).toBeGreaterThanOrEqual(3);
    expect(f.labelAgreement).toBeGreaterThanOrEqual(5 / 6); // compared with the source graph on probe texts
    const ops = new Set(readGraph(f.path).node!.map((n) => n.opType));
    expect(ops.has('Gemm')).toBe(false); // the pooler/classifier Gemms became MatMulInteger + Add
    const addOnly = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ version: 17 }],
      graph: {
        name: 'add',
        node: [{ opType: 'Add', input: ['x', 'x'], output: ['y'] }],
        input: [{ name: 'x' }],
        output: [{ name: 'y' }],
      },
    });
    writeFileSync(join(out, 'add.onnx'), encodeModel(addOnly));
    await expect(exportModel(join(out, 'add.onnx'), join(out, 'add-q.onnx'), { quantize: 'int8' })).rejects.toThrow(
      /add\.onnx: the graph has no MatMul or Gemm/,
    );
    writeFileSync(join(out, 'cut.onnx'), readFileSync(src).subarray(0, 50_000));
    await expect(exportModel(join(out, 'cut.onnx'), join(out, 'cut-q.onnx'), { quantize: 'int8' })).rejects.toThrow(
      /cut\.onnx: not a loadable ONNX model: the file is truncated or corrupt/,
    );
  });
});
