/**
 * Export our BERT-family models (packages/models) as a standard ONNX graph: opset 17, dynamic
 * `batch`/`sequence` axes, inputs input_ids / attention_mask / token_type_ids (int64), output
 * `logits` (optionally `hidden_states_<i>` and `attentions_<i>`, Hugging Face numbering, as the
 * PyTorch-made fixture names them). Computes exactly what `encoder.ts` computes.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import type { BertBase, HiddenAct } from '@distillery/models';
import { DT, type ModelProto } from '../proto.js';
import { af, ai, aints, GraphBuilder, type ValueDecl } from './builder.js';

/** Options of {@link exportBertOnnx}. */
export interface OnnxExportOptions {
  /** Also output `hidden_states_0..N` (embeddings, then each layer). @default false */
  hiddenStates?: boolean;
  /** Also output `attentions_0..N-1` (softmax probabilities [B, H, L, L]). @default false */
  attentions?: boolean;
  /** ONNX opset; ≥ 17 (LayerNormalization is a standard op from 17 on). @default 17 */
  opset?: number;
}

/** Activations the exporter writes, by config name. */
const SUPPORTED_ACTS: readonly HiddenAct[] = ['gelu', 'gelu_new', 'relu'];

/** Float32 copy of a weight; linear weights are transposed to `[in, out]` for MatMul. */
function weightArray(t: tf.Tensor, transpose: boolean): { data: Float32Array; dims: number[] } {
  if (!transpose) return { data: Float32Array.from(t.dataSync() as Float32Array), dims: [...t.shape] };
  const [o, i] = t.shape as [number, number];
  const src = t.dataSync() as Float32Array;
  const data = new Float32Array(o * i);
  for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) data[c * o + r] = src[r * i + c]!;
  return { data, dims: [i, o] };
}

/** Build the ONNX ModelProto of a BERT model (weights copied out of tfjs; the model is not changed). */
export function exportBertOnnx(model: BertBase, opts: OnnxExportOptions = {}): ModelProto {
  const c = model.config;
  const opset = opts.opset ?? 17;
  if (!Number.isInteger(opset) || opset < 17)
    throw new DistilleryError('CONFIG_INVALID', `opset must be an integer >= 17, got ${opset}`, {
      where: 'opset',
      hint: 'LayerNormalization (opset 17) keeps the graph small and lets ORT fuse it',
    });
  if (!SUPPORTED_ACTS.includes(c.hiddenAct)) {
    throw new DistilleryError(
      'EXPORT_UNSUPPORTED',
      `layer "bert.encoder.layer.*.intermediate" uses activation "${c.hiddenAct}", which the ONNX exporter does not support`,
      { where: 'config.json: hidden_act', hint: `supported: ${SUPPORTED_ACTS.join(', ')}` },
    );
  }
  const w = model.weights();
  const g = new GraphBuilder();
  const param = (name: string, transpose = false): string => {
    const t = w[name];
    if (!t)
      throw new DistilleryError('EXPORT_UNSUPPORTED', `layer "${name}" is missing from the model`, {
        where: 'exportBertOnnx',
      });
    const a = weightArray(t, transpose);
    return g.init(name, a.dims, a.data);
  };
  const linear = (x: string, name: string) =>
    g.op('Add', [g.op('MatMul', [x, param(`${name}.weight`, true)]), param(`${name}.bias`)]);
  const layerNorm = (x: string, name: string, out?: string) =>
    g.op(
      'LayerNormalization',
      [x, param(`${name}.weight`), param(`${name}.bias`)],
      { axis: ai(-1), epsilon: af(c.layerNormEps) },
      out,
    );

  // Embeddings: (word + type) + position (0..L-1), LayerNorm.
  g.scope = 'embeddings';
  const pre = 'bert.embeddings';
  const words = g.op('Gather', [param(`${pre}.word_embeddings.weight`), 'input_ids'], { axis: ai(0) });
  const types = g.op('Gather', [param(`${pre}.token_type_embeddings.weight`), 'token_type_ids'], { axis: ai(0) });
  const seqLen = g.op('Gather', [g.op('Shape', ['input_ids']), g.i64([1], [])], { axis: ai(0) });
  const positions = g.op('Range', [g.i64([0], []), seqLen, g.i64([1], [])]);
  const posEmb = g.op('Gather', [param(`${pre}.position_embeddings.weight`), positions], { axis: ai(0) });
  let x = layerNorm(g.op('Add', [g.op('Add', [words, types]), posEmb]), `${pre}.LayerNorm`);
  const hidden = [x];
  const attn: string[] = [];

  // Additive mask (1 - mask)·(-10000) as [B, 1, 1, L], as HF's extended attention mask.
  g.scope = 'mask';
  const maskF = g.op('Cast', ['attention_mask'], { to: ai(DT.FLOAT) });
  const maskAdd = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [g.f32(1), maskF]), g.f32(-10000)]), g.i64([1, 2])]);

  const h = c.numAttentionHeads;
  const dh = c.hiddenSize / h;
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `bert.encoder.layer.${i}`;
    g.scope = `layer.${i}/attention`;
    const split = (t: string, perm: number[]) =>
      g.op('Transpose', [g.op('Reshape', [t, g.i64([0, 0, h, dh])])], { perm: aints(perm) });
    const q = split(linear(x, `${p}.attention.self.query`), [0, 2, 1, 3]);
    const kT = split(linear(x, `${p}.attention.self.key`), [0, 2, 3, 1]);
    const v = split(linear(x, `${p}.attention.self.value`), [0, 2, 1, 3]);
    const scores = g.op('Add', [g.op('Div', [g.op('MatMul', [q, kT]), g.f32(Math.sqrt(dh))]), maskAdd]);
    const probs = g.op('Softmax', [scores], { axis: ai(-1) });
    attn.push(probs);
    const ctx = g.op('Reshape', [
      g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: aints([0, 2, 1, 3]) }),
      g.i64([0, 0, c.hiddenSize]),
    ]);
    const a = layerNorm(
      g.op('Add', [linear(ctx, `${p}.attention.output.dense`), x]),
      `${p}.attention.output.LayerNorm`,
    );
    g.scope = `layer.${i}/ffn`;
    const inter = activation(g, c.hiddenAct, linear(a, `${p}.intermediate.dense`));
    x = layerNorm(g.op('Add', [linear(inter, `${p}.output.dense`), a]), `${p}.output.LayerNorm`);
    hidden.push(x);
  }

  g.scope = 'head';
  const outputs: ValueDecl[] = [];
  if (model.head === 'sequence') {
    const cls = g.op('Gather', [x, g.i64([0], [])], { axis: ai(1) });
    const pooled = g.op('Tanh', [linear(cls, 'bert.pooler.dense')]);
    g.op('Identity', [linear(pooled, 'classifier')], {}, 'logits');
    outputs.push({ name: 'logits', elemType: DT.FLOAT, dims: ['batch', c.numLabels] });
  } else if (model.head === 'token') {
    g.op('Identity', [linear(x, 'classifier')], {}, 'logits');
    outputs.push({ name: 'logits', elemType: DT.FLOAT, dims: ['batch', 'sequence', c.numLabels] });
  } else {
    g.op('Identity', [x], {}, 'last_hidden_state');
    outputs.push({ name: 'last_hidden_state', elemType: DT.FLOAT, dims: ['batch', 'sequence', c.hiddenSize] });
  }
  if (opts.hiddenStates) {
    hidden.forEach((t, i) => {
      g.op('Identity', [t], {}, `hidden_states_${i}`);
      outputs.push({ name: `hidden_states_${i}`, elemType: DT.FLOAT, dims: ['batch', 'sequence', c.hiddenSize] });
    });
  }
  if (opts.attentions) {
    attn.forEach((t, i) => {
      g.op('Identity', [t], {}, `attentions_${i}`);
      outputs.push({ name: `attentions_${i}`, elemType: DT.FLOAT, dims: ['batch', h, 'sequence', 'sequence'] });
    });
  }
  const ids = (name: string): ValueDecl => ({ name, elemType: DT.INT64, dims: ['batch', 'sequence'] });
  return g.model({
    name: `distillery_${model.constructor.name}`,
    opset,
    inputs: [ids('input_ids'), ids('attention_mask'), ids('token_type_ids')],
    outputs,
    metadata: { 'distillery.head': model.head, 'distillery.architecture': model.constructor.name },
  });
}

/** The feed-forward activation as ONNX ops. */
function activation(g: GraphBuilder, kind: HiddenAct, x: string): string {
  switch (kind) {
    case 'gelu':
      // Exactly PyTorch's form, x·(erf(x/√2) + 1)·0.5: ORT's optimiser fuses it (with the bias Add) into one BiasGelu kernel.
      return g.op('Mul', [
        g.op('Mul', [x, g.op('Add', [g.op('Erf', [g.op('Div', [x, g.f32(Math.SQRT2)])]), g.f32(1)])]),
        g.f32(0.5),
      ]);
    case 'gelu_new': {
      const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Mul', [
        g.op('Add', [x, g.op('Mul', [cube, g.f32(0.044715)])]),
        g.f32(Math.sqrt(2 / Math.PI)),
      ]);
      return g.op('Mul', [g.op('Mul', [x, g.f32(0.5)]), g.op('Add', [g.f32(1), g.op('Tanh', [inner])])]);
    }
    case 'relu':
      return g.op('Relu', [x]);
  }
}
