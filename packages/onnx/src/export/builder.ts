/**
 * A small ONNX graph builder over the `onnx-proto` schema: nodes with unique output names,
 * initializers, constants, typed attributes, and the final ModelProto.
 * @packageDocumentation
 */
import {
  DT,
  onnx,
  makeTensor,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../proto.js';

/** A typed node attribute (ONNX needs the type; a JS number does not say int or float). */
export type Attr = { i: number } | { f: number } | { ints: number[] } | { s: string } | { t: TensorProto };
/** Integer attribute. */
export const ai = (i: number): Attr => ({ i });
/** Float attribute. */
export const af = (f: number): Attr => ({ f });
/** Integer-list attribute. */
export const aints = (ints: number[]): Attr => ({ ints });

const AT = onnx.AttributeProto.AttributeType;

function toAttribute(name: string, a: Attr): AttributeProto {
  if ('i' in a) return { name, type: AT.INT, i: a.i };
  if ('f' in a) return { name, type: AT.FLOAT, f: a.f };
  if ('ints' in a) return { name, type: AT.INTS, ints: a.ints };
  if ('s' in a) return { name, type: AT.STRING, s: new TextEncoder().encode(a.s) };
  return { name, type: AT.TENSOR, t: a.t };
}

/** Graph input/output declaration: element type and dims (strings = dynamic axes). */
export interface ValueDecl {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

export function valueInfo(v: ValueDecl): ValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Accumulates nodes and initializers; names are `<scope>/<Op>_<n>` like exporters write. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private count = 0;
  private consts = new Map<string, string>();
  /** Prefix of the names of the nodes being added (e.g. `layer.0/attention`). */
  scope = '';

  /** Add a node with one output; returns the output's name (`out` names it explicitly). */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string): string {
    return this.opN(opType, inputs, 1, attrs, out ? [out] : undefined)[0]!;
  }

  /** Add a node with `nOut` outputs. */
  opN(opType: string, inputs: string[], nOut: number, attrs: Record<string, Attr> = {}, outs?: string[]): string[] {
    const base = `${this.scope ? `/${this.scope}` : ''}/${opType}_${this.count++}`;
    const outputs = outs ?? Array.from({ length: nOut }, (_, k) => `${base}_output_${k}`);
    this.nodes.push({
      opType,
      name: base,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return outputs;
  }

  /** Add a float32 (or other) initializer; returns its name. */
  init(
    name: string,
    dims: readonly number[],
    data: Float32Array | Int32Array | BigInt64Array | Int8Array | Uint8Array | Uint16Array,
    dataType: number = DT.FLOAT,
  ): string {
    this.initializers.push(makeTensor(name, dataType, dims, data));
    return name;
  }

  /** A shared int64 constant initializer (scalar when `dims` is []). */
  i64(values: number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = `const_i64_${this.consts.size}`;
      this.init(
        name,
        dims,
        BigInt64Array.from(values, (v) => BigInt(v)),
        DT.INT64,
      );
      this.consts.set(key, name);
    }
    return name;
  }

  /** A shared float32 scalar constant initializer. */
  f32(value: number): string {
    const key = `f32:${value}`;
    let name = this.consts.get(key);
    if (!name) {
      name = `const_f32_${this.consts.size}`;
      this.init(name, [], Float32Array.of(value), DT.FLOAT);
      this.consts.set(key, name);
    }
    return name;
  }

  /** The ModelProto (IR 8) with the given opset, inputs and outputs. */
  model(o: {
    name: string;
    opset: number;
    inputs: ValueDecl[];
    outputs: ValueDecl[];
    metadata?: Record<string, string>;
    extraOpsets?: { domain: string; version: number }[];
  }): ModelProto {
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'distillery',
      producerVersion: '0.1.0',
      opsetImport: [{ domain: '', version: o.opset }, ...(o.extraOpsets ?? [])],
      metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: o.name,
        node: this.nodes,
        initializer: this.initializers,
        input: o.inputs.map(valueInfo),
        output: o.outputs.map(valueInfo),
      },
    });
  }
}
