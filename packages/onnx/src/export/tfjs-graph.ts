/**
 * `--format tfjs`: our BERT models as a TensorFlow.js graph model (`model.json` with a TF GraphDef in its
 * JSON form + 4 MB weight shards), loadable in the browser with `tf.loadGraphModel` from
 * @tensorflow/tfjs-converter. Same inputs/outputs as the ONNX export (int32 ids here, as tfjs uses).
 * Hidden states are kept as [batch·sequence, hidden] between layers so only attention needs dynamic shapes.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import type { BertBase } from '@distillery/models';

type Attr = Record<string, unknown>;
interface TfNode {
  name: string;
  op: string;
  input: string[];
  attr: Attr;
}
interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

const DT = { float32: 'DT_FLOAT', int32: 'DT_INT32' } as const;
const T = (dtype: keyof typeof DT = 'float32') => ({ T: { type: DT[dtype] } });

/** Accumulates TF nodes and the weights of their Const nodes. */
class TfGraph {
  readonly nodes: TfNode[] = [];
  readonly specs: WeightSpec[] = [];
  readonly data: (Float32Array | Int32Array)[] = [];
  private n = 0;

  op(op: string, input: string[], attr: Attr = {}, name?: string): string {
    const id = name ?? `${op}_${this.n++}`;
    this.nodes.push({ name: id, op, input, attr });
    return id;
  }

  const(name: string, shape: number[], data: Float32Array | Int32Array): string {
    const dtype = data instanceof Int32Array ? 'int32' : 'float32';
    this.specs.push({ name, shape, dtype });
    this.data.push(data);
    return this.op(
      'Const',
      [],
      {
        value: { tensor: { dtype: DT[dtype], tensorShape: { dim: shape.map((s) => ({ size: String(s) })) } } },
        dtype: { type: DT[dtype] },
      },
      name,
    );
  }

  i32(values: number[], shape: number[] = [values.length]): string {
    return this.const(`const_i32_${this.n++}`, shape, Int32Array.from(values));
  }

  f32(value: number): string {
    return this.const(`const_f32_${this.n++}`, [], Float32Array.of(value));
  }
}

/** A tfjs graph model: `model.json` content and the weight bytes split into shards. */
export interface TfjsGraphArtifacts {
  modelJson: Record<string, unknown>;
  /** Shard file name → bytes. */
  shards: Map<string, Uint8Array>;
}

/** Build the tfjs graph model of a sequence-classification BERT. */
export function exportBertTfjsGraph(model: BertBase, shardBytes = 4 * 1024 * 1024): TfjsGraphArtifacts {
  if (model.head !== 'sequence')
    throw new DistilleryError(
      'EXPORT_UNSUPPORTED',
      `the tfjs graph export writes sequence classifiers; this model's head is "${model.head}"`,
      { where: '--format tfjs', hint: 'use --format onnx for token classifiers and bare encoders' },
    );
  const c = model.config;
  const w = model.weights();
  const g = new TfGraph();
  const param = (name: string, transpose = false) => {
    const t = w[name]!;
    const v = transpose ? tf.tidy(() => tf.transpose(t)) : t;
    const out = g.const(name, [...v.shape], Float32Array.from(v.dataSync() as Float32Array));
    if (v !== t) v.dispose();
    return out;
  };
  const linear = (x: string, name: string) =>
    g.op(
      'AddV2',
      [
        g.op('MatMul', [x, param(`${name}.weight`, true)], {
          transpose_a: { b: false },
          transpose_b: { b: false },
          ...T(),
        }),
        param(`${name}.bias`),
      ],
      T(),
    );
  const lastAxis = g.i32([-1], [1]);
  const layerNorm = (x: string, name: string) => {
    const mean = g.op('Mean', [x, lastAxis], { keep_dims: { b: true }, ...T() });
    const cen = g.op('Sub', [x, mean], T());
    const variance = g.op('Mean', [g.op('Square', [cen], T()), lastAxis], { keep_dims: { b: true }, ...T() });
    const normed = g.op('Mul', [cen, g.op('Rsqrt', [g.op('AddV2', [variance, g.f32(c.layerNormEps)], T())], T())], T());
    return g.op('AddV2', [g.op('Mul', [normed, param(`${name}.weight`)], T()), param(`${name}.bias`)], T());
  };
  const placeholder = (name: string) =>
    g.op(
      'Placeholder',
      [],
      { dtype: { type: 'DT_INT32' }, shape: { shape: { dim: [{ size: '-1' }, { size: '-1' }] } } },
      name,
    );
  const ids = placeholder('input_ids');
  const mask = placeholder('attention_mask');
  const types = placeholder('token_type_ids');
  const axis0 = g.i32([0], []);
  const flatIds = (x: string) => g.op('Reshape', [x, g.i32([-1])], T('int32'));

  // Embeddings, flattened to [B·L, D].
  const pre = 'bert.embeddings';
  const words = g.op('GatherV2', [param(`${pre}.word_embeddings.weight`), flatIds(ids), axis0], {
    batch_dims: { i: '0' },
  });
  const typeEmb = g.op('GatherV2', [param(`${pre}.token_type_embeddings.weight`), flatIds(types), axis0], {
    batch_dims: { i: '0' },
  });
  const shapeBL = g.op('Shape', [ids], { out_type: { type: 'DT_INT32' } });
  const seqLen = g.op('StridedSlice', [shapeBL, g.i32([1]), g.i32([2]), g.i32([1])], {
    shrink_axis_mask: { i: '1' },
    begin_mask: { i: '0' },
    end_mask: { i: '0' },
    ellipsis_mask: { i: '0' },
    new_axis_mask: { i: '0' },
    Index: { type: 'DT_INT32' },
    ...T('int32'),
  });
  const posRows = g.op('Range', [g.i32([0], []), seqLen, g.i32([1], [])], { Tidx: { type: 'DT_INT32' } });
  const posEmb = g.op('GatherV2', [param(`${pre}.position_embeddings.weight`), posRows, axis0], {
    batch_dims: { i: '0' },
  }); // [L, D]
  const D = c.hiddenSize;
  const shapeBLD = g.op('ConcatV2', [shapeBL, g.i32([D]), axis0], { N: { i: '2' }, ...T('int32') });
  const sum3 = g.op('AddV2', [g.op('Reshape', [g.op('AddV2', [words, typeEmb], T()), shapeBLD], T()), posEmb], T());
  let x = layerNorm(g.op('Reshape', [sum3, g.i32([-1, D])], T()), `${pre}.LayerNorm`);

  // (1 - mask)·(-10000) as [B, 1, 1, L].
  const maskF = g.op('Cast', [mask], { SrcT: { type: 'DT_INT32' }, DstT: { type: 'DT_FLOAT' } });
  const one = g.i32([1], []);
  const maskAdd = g.op(
    'ExpandDims',
    [
      g.op('ExpandDims', [g.op('Mul', [g.op('Sub', [g.f32(1), maskF], T()), g.f32(-10000)], T()), one], {
        Tdim: { type: 'DT_INT32' },
      }),
      one,
    ],
    { Tdim: { type: 'DT_INT32' } },
  );

  const h = c.numAttentionHeads;
  const dh = D / h;
  const shapeBLHd = g.op('ConcatV2', [shapeBL, g.i32([h, dh]), axis0], { N: { i: '2' }, ...T('int32') });
  const heads = (t: string) => g.op('Transpose', [g.op('Reshape', [t, shapeBLHd], T()), g.i32([0, 2, 1, 3])], T());
  const act = (t: string) => {
    switch (c.hiddenAct) {
      case 'gelu':
        return g.op(
          'Mul',
          [
            g.op('Mul', [t, g.f32(0.5)], T()),
            g.op('AddV2', [g.f32(1), g.op('Erf', [g.op('Mul', [t, g.f32(Math.SQRT1_2)], T())], T())], T()),
          ],
          T(),
        );
      case 'gelu_new': {
        const cube = g.op('Mul', [g.op('Mul', [t, t], T()), t], T());
        const inner = g.op(
          'Mul',
          [g.op('AddV2', [t, g.op('Mul', [cube, g.f32(0.044715)], T())], T()), g.f32(Math.sqrt(2 / Math.PI))],
          T(),
        );
        return g.op(
          'Mul',
          [g.op('Mul', [t, g.f32(0.5)], T()), g.op('AddV2', [g.f32(1), g.op('Tanh', [inner], T())], T())],
          T(),
        );
      }
      case 'relu':
        return g.op('Relu', [t], T());
      default:
        throw new DistilleryError(
          'EXPORT_UNSUPPORTED',
          `activation "${c.hiddenAct as string}" is not supported by the tfjs export`,
          { where: 'config.json: hidden_act' },
        );
    }
  };
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `bert.encoder.layer.${i}`;
    const q = heads(linear(x, `${p}.attention.self.query`));
    const k = heads(linear(x, `${p}.attention.self.key`));
    const v = heads(linear(x, `${p}.attention.self.value`));
    const scores = g.op(
      'AddV2',
      [
        g.op(
          'RealDiv',
          [g.op('BatchMatMulV2', [q, k], { adj_x: { b: false }, adj_y: { b: true }, ...T() }), g.f32(Math.sqrt(dh))],
          T(),
        ),
        maskAdd,
      ],
      T(),
    );
    const probs = g.op('Softmax', [scores], T());
    const ctx = g.op(
      'Reshape',
      [
        g.op(
          'Transpose',
          [
            g.op('BatchMatMulV2', [probs, v], { adj_x: { b: false }, adj_y: { b: false }, ...T() }),
            g.i32([0, 2, 1, 3]),
          ],
          T(),
        ),
        g.i32([-1, D]),
      ],
      T(),
    );
    const a = layerNorm(
      g.op('AddV2', [linear(ctx, `${p}.attention.output.dense`), x], T()),
      `${p}.attention.output.LayerNorm`,
    );
    x = layerNorm(
      g.op('AddV2', [linear(act(linear(a, `${p}.intermediate.dense`)), `${p}.output.dense`), a], T()),
      `${p}.output.LayerNorm`,
    );
  }
  // [CLS] rows: x viewed as [B, L, D], position 0 of axis 1.
  const cls = g.op(
    'StridedSlice',
    [g.op('Reshape', [x, shapeBLD], T()), g.i32([0, 0, 0]), g.i32([0, 1, 0]), g.i32([1, 1, 1])],
    {
      begin_mask: { i: '5' },
      end_mask: { i: '5' },
      shrink_axis_mask: { i: '2' },
      ellipsis_mask: { i: '0' },
      new_axis_mask: { i: '0' },
      Index: { type: 'DT_INT32' },
      ...T(),
    },
  );
  const pooled = g.op('Tanh', [linear(cls, 'bert.pooler.dense')], T());
  g.op('Identity', [linear(pooled, 'classifier')], T(), 'logits');

  // Weights in graph order, cut into shards of at most `shardBytes` (tfjs concatenates them back).
  const total = g.data.reduce((n, d) => n + d.byteLength, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const d of g.data) {
    all.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), off);
    off += d.byteLength;
  }
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const shards = new Map<string, Uint8Array>();
  for (let s = 0; s < count; s++)
    shards.set(
      `group1-shard${s + 1}of${count}.bin`,
      all.subarray(s * shardBytes, Math.min(total, (s + 1) * shardBytes)),
    );
  const sig = (name: string, dtype: string, dims: number[]) => ({
    name: `${name}:0`,
    dtype,
    tensorShape: { dim: dims.map((d) => ({ size: String(d) })) },
  });
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'distillery',
    convertedBy: 'distillery export --format tfjs',
    signature: {
      inputs: Object.fromEntries(
        ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => [`${n}:0`, sig(n, 'DT_INT32', [-1, -1])]),
      ),
      outputs: { 'logits:0': sig('logits', 'DT_FLOAT', [-1, c.numLabels]) },
    },
    modelTopology: { node: g.nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [{ paths: [...shards.keys()], weights: g.specs }],
  };
  return { modelJson, shards };
}
