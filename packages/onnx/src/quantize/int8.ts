/**
 * Dynamic int8 quantization of an ONNX graph, with standard operators only (the pattern of
 * onnxruntime's `quantize_dynamic`): constant MatMul/Gemm weights become int8 (symmetric, per output
 * column by default) and each product runs as
 *   DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, W_zp) → Cast → Mul(x_scale·W_scale) [→ Add(bias)],
 * which ORT fuses into one DynamicQuantizeMatMul kernel. Constant embedding tables read by Gather are
 * stored int8 too (Gather on int8, then DequantizeLinear), as ORT's quantizer does.
 * @packageDocumentation
 */
import { DistilleryError } from '@distillery/core';
import {
  DT,
  makeTensor,
  tensorDims,
  tensorFloats,
  toNum,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../proto.js';

/** Options of {@link quantizeInt8}. */
export interface Int8Options {
  /** One scale per output column of each weight (else one per tensor). @default true */
  perChannel?: boolean;
  /** Also store Gather-ed embedding tables in int8. @default true */
  embeddings?: boolean;
  /** Model name for errors. */
  where?: string;
}

/** What {@link quantizeInt8} changed. */
export interface Int8Report {
  /** Weights of MatMul/Gemm quantized. */
  matmuls: string[];
  /** Embedding tables quantized. */
  gathers: string[];
}

/** Symmetric int8 quantization of `w` viewed as [rows, cols]; per column (axis 1) or per tensor. */
export function quantizeSymmetric(
  w: Float32Array,
  rows: number,
  cols: number,
  perChannel: boolean,
): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(perChannel ? cols : 1);
  const absmax = new Float32Array(scale.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(w[r * cols + c]!);
      const k = perChannel ? c : 0;
      if (a > absmax[k]!) absmax[k] = a;
    }
  }
  // Range [-127, 127] (not -128): symmetric, and the int16 pair sums of u8×s8 kernels cannot saturate as often.
  for (let k = 0; k < scale.length; k++) scale[k] = absmax[k]! > 0 ? absmax[k]! / 127 : 1;
  const q = new Int8Array(w.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const s = scale[perChannel ? c : 0]!;
      q[r * cols + c] = Math.max(-127, Math.min(127, Math.round(w[r * cols + c]! / s)));
    }
  }
  return { q, scale };
}

function attrInt(n: NodeProto, name: string, dflt: number): number {
  const a = n.attribute?.find((x) => x.name === name);
  return a ? toNum(a.i as number) : dflt;
}

function attrFloat(n: NodeProto, name: string, dflt: number): number {
  const a = n.attribute?.find((x) => x.name === name);
  return a ? (a.f ?? dflt) : dflt;
}

/**
 * Quantize the model in place (its graph's nodes and initializers are replaced). Throws when the graph
 * has no MatMul/Gemm with a constant weight: there is nothing to quantize.
 */
export function quantizeInt8(model: ModelProto, opts: Int8Options = {}): Int8Report {
  const perChannel = opts.perChannel ?? true;
  const where = opts.where ?? 'model.onnx';
  const g = model.graph!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const isFloatWeight = (name: string | undefined | null): name is string => {
    const t = name ? inits.get(name) : undefined;
    return !!t && t.dataType === DT.FLOAT && tensorDims(t).length === 2;
  };
  const added: TensorProto[] = [];
  const out: NodeProto[] = [];
  const report: Int8Report = { matmuls: [], gathers: [] };
  const quantW = new Map<string, { q: string; scale: string; zp: string }>();
  const quantX = new Map<string, [string, string, string]>();
  let n = 0;
  const fresh = (base: string) => `${base}_q${n++}`;

  /** int8 weight [K, N] (transposed first for Gemm transB) with its scale and zero point initializers. */
  const weight = (name: string, transpose: boolean) => {
    const key = `${name}:${transpose}`;
    const hit = quantW.get(key);
    if (hit) return hit;
    const t = inits.get(name)!;
    let [rows, cols] = tensorDims(t) as [number, number];
    let w = tensorFloats(t);
    if (transpose) {
      const tw = new Float32Array(w.length);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) tw[c * rows + r] = w[r * cols + c]!;
      w = tw;
      [rows, cols] = [cols, rows];
    }
    const { q, scale } = quantizeSymmetric(w, rows, cols, perChannel);
    const names = { q: `${name}_quantized`, scale: `${name}_scale`, zp: `${name}_zero_point` };
    const sdims = perChannel ? [cols] : [];
    added.push(
      makeTensor(names.q, DT.INT8, [rows, cols], q),
      makeTensor(names.scale, DT.FLOAT, sdims, scale),
      makeTensor(names.zp, DT.INT8, sdims, new Int8Array(scale.length)),
    );
    quantW.set(key, names);
    report.matmuls.push(name);
    return names;
  };
  /** uint8 activation with its dynamic scale and zero point, shared by the products that read it (q, k, v). */
  const activation = (x: string) => {
    let r = quantX.get(x);
    if (!r) {
      const base = fresh(x);
      r = [`${base}_quantized`, `${base}_scale`, `${base}_zero_point`];
      out.push({ opType: 'DynamicQuantizeLinear', name: `${base}/DynamicQuantizeLinear`, input: [x], output: r });
      quantX.set(x, r);
    }
    return r;
  };
  const integerProduct = (x: string, w: { q: string; scale: string; zp: string }, output: string) => {
    const [xq, xs, xzp] = activation(x);
    const base = fresh(output);
    out.push(
      { opType: 'MatMulInteger', name: `${base}/MatMulInteger`, input: [xq, w.q, xzp, w.zp], output: [`${base}_i32`] },
      {
        opType: 'Cast',
        name: `${base}/Cast`,
        input: [`${base}_i32`],
        output: [`${base}_f32`],
        attribute: [{ name: 'to', type: 2, i: DT.FLOAT }],
      },
      { opType: 'Mul', name: `${base}/ScaleMul`, input: [xs, w.scale], output: [`${base}_scale`] },
      { opType: 'Mul', name: `${base}/Mul`, input: [`${base}_f32`, `${base}_scale`], output: [output] },
    );
  };

  for (const node of g.node ?? []) {
    const [a, b, c] = node.input ?? [];
    if (node.opType === 'MatMul' && isFloatWeight(b) && !inits.has(a!)) {
      integerProduct(a!, weight(b, false), node.output![0]!);
    } else if (
      node.opType === 'Gemm' &&
      isFloatWeight(b) &&
      !inits.has(a!) &&
      attrInt(node, 'transA', 0) === 0 &&
      attrFloat(node, 'alpha', 1) === 1 &&
      attrFloat(node, 'beta', 1) === 1
    ) {
      const y = node.output![0]!;
      if (c) {
        integerProduct(a!, weight(b, attrInt(node, 'transB', 0) === 1), `${y}_nobias`);
        out.push({ opType: 'Add', name: `${fresh(y)}/BiasAdd`, input: [`${y}_nobias`, c], output: [y] });
      } else {
        integerProduct(a!, weight(b, attrInt(node, 'transB', 0) === 1), y);
      }
    } else if (
      node.opType === 'Gather' &&
      (opts.embeddings ?? true) &&
      isFloatWeight(a) &&
      attrInt(node, 'axis', 0) === 0
    ) {
      const t = inits.get(a)!;
      const [rows, cols] = tensorDims(t) as [number, number];
      const key = `${a}:gather`;
      let names = quantW.get(key);
      if (!names) {
        // Per column of the table (the hidden axis): the gathered rows keep that axis last.
        const { q, scale } = quantizeSymmetric(tensorFloats(t), rows, cols, perChannel);
        names = { q: `${a}_quantized`, scale: `${a}_scale`, zp: `${a}_zero_point` };
        const sdims = perChannel ? [cols] : [];
        added.push(
          makeTensor(names.q, DT.INT8, [rows, cols], q),
          makeTensor(names.scale, DT.FLOAT, sdims, scale),
          makeTensor(names.zp, DT.INT8, sdims, new Int8Array(scale.length)),
        );
        quantW.set(key, names);
        report.gathers.push(a);
      }
      const base = fresh(node.output![0]!);
      out.push(
        { ...node, input: [names.q, b!], output: [`${base}_i8`] },
        {
          opType: 'DequantizeLinear',
          name: `${base}/DequantizeLinear`,
          input: [`${base}_i8`, names.scale, names.zp],
          output: [node.output![0]!],
          attribute: perChannel ? [{ name: 'axis', type: 2, i: -1 }] : [],
        },
      );
    } else {
      out.push(node);
    }
  }
  if (!report.matmuls.length) {
    throw new DistilleryError(
      'QUANTIZE_NOTHING',
      'the graph has no MatMul or Gemm with a constant weight: there is nothing to quantize',
      {
        where,
        hint: 'int8 dynamic quantization targets the weights of MatMul/Gemm; export the model with distillery export first, or use --quantize fp16',
      },
    );
  }
  g.node = out;
  const used = new Set(out.flatMap((x) => x.input ?? []));
  g.initializer = [...(g.initializer ?? []).filter((t) => used.has(t.name!)), ...added];
  return report;
}
