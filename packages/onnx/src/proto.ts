/**
 * The ONNX protobuf schema (the `onnx-proto` package: onnx.proto compiled by protobufjs) and small
 * helpers to read, write and diagnose model files. No wire encoding by hand.
 * @packageDocumentation
 */
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** ONNX element types used here (TensorProto.DataType). */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10 } as const;

/** Decode model bytes (throws protobufjs's error on corrupt or truncated input). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** Encode a model to bytes. */
export function encodeModel(model: ModelProto | onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Why bytes are not a usable ONNX model, or undefined when they decode to a model with a graph. */
export function diagnoseOnnxBytes(bytes: Uint8Array): string | undefined {
  let m: ModelProto;
  try {
    m = decodeModel(bytes);
  } catch (e) {
    return `the file is truncated or corrupt (protobuf decoding failed: ${e instanceof Error ? e.message : String(e)}; ${bytes.length} bytes)`;
  }
  if (!m.graph || !m.graph.node?.length) return 'the file decodes but holds no graph (not an ONNX model)';
  if (!m.opsetImport?.length) return 'the model declares no opset';
  return undefined;
}

/** Number of a protobuf int64 field (protobufjs gives a Long or a number). */
export function toNum(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Float32 values of an initializer (raw little-endian bytes or the float_data field). */
export function tensorFloats(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.length) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** Dimensions of an initializer as numbers. */
export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => toNum(d as number));
}

/** A TensorProto with raw little-endian data. */
export function makeTensor(
  name: string,
  dataType: number,
  dims: readonly number[],
  data: Float32Array | Int32Array | BigInt64Array | Int8Array | Uint8Array | Uint16Array,
): TensorProto {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { name, dataType, dims: [...dims], rawData: new Uint8Array(raw) };
}
