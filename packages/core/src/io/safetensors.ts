/**
 * Read and write the safetensors format (https://github.com/huggingface/safetensors):
 * 8-byte little-endian header length N, N bytes of JSON header (`{name: {dtype, shape, data_offsets}}`
 * plus optional `__metadata__` of string values, padded with spaces to a multiple of 8), then the
 * tensor bytes, little-endian, contiguous. Offsets are relative to the end of the header.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { DistilleryError } from '../util/errors.js';
import { writeFileAtomic, writeFileAtomicWith } from './atomic.js';
import { f16ToF32, bf16ToF32, f32ToF16 } from './half.js';

/** safetensors dtype codes this module understands. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
const FLOAT_DTYPES = new Set<SafetensorsDtype>(['F64', 'F32', 'F16', 'BF16']);

/**
 * A decoded tensor. Floating types decode to `Float32Array` (F16/BF16 widened exactly, F64 rounded),
 * integer types to `Int32Array` (I64 values outside the int32 range are an error).
 */
export interface SafetensorsTensor {
  /** dtype as stored in the file. */
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A parsed file: tensors by name (in file order) and the string metadata. */
export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

/** A tensor to write. `dtype` defaults to F32 for Float32Array data and I32 for Int32Array data. */
export interface SafetensorsInput {
  data: Float32Array | Int32Array;
  shape: readonly number[];
  dtype?: 'F32' | 'F16' | 'I32' | 'I64';
}

/** Header length limit (the reference implementation uses 100 MB); guards against garbage files. */
const MAX_HEADER = 100_000_000;

function bad(where: string, message: string, hint?: string): DistilleryError {
  return new DistilleryError('SAFETENSORS_INVALID', message, { where, hint });
}

/** Parse safetensors bytes. `where` (usually the file path) is used in error messages. */
export function parseSafetensors(bytes: Uint8Array, where = '<buffer>'): SafetensorsFile {
  if (bytes.length < 8) throw bad(where, `file is ${bytes.length} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > bytes.length) {
    throw bad(
      where,
      `header length ${n} does not fit in a ${bytes.length}-byte file`,
      'is this really a .safetensors file?',
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw bad(where, `header is not valid JSON: ${(err as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw bad(where, 'header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') throw bad(where, `__metadata__.${k} must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e?.dtype as SafetensorsDtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw bad(
        where,
        `tensor "${name}" has unsupported dtype ${JSON.stringify(e?.dtype)}`,
        `supported: ${Object.keys(DTYPE_BYTES).join(', ')}`,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw bad(where, `tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) {
      throw bad(where, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLen)
      throw bad(
        where,
        `tensor "${name}" data_offsets [${begin}, ${end}] fall outside the ${dataLen}-byte data section`,
      );
    if (end - begin !== count * DTYPE_BYTES[dtype]) {
      throw bad(
        where,
        `tensor "${name}" has ${end - begin} bytes but shape ${JSON.stringify(shape)} of ${dtype} needs ${count * DTYPE_BYTES[dtype]}`,
      );
    }
    // Copy into a fresh, aligned buffer (Node's Buffer#slice would share the pooled/unaligned memory).
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype, shape: shape as number[], data: decode(raw, dtype, count, `${where}: ${name}`) });
  }
  return { tensors, metadata };
}

function decode(raw: Uint8Array, dtype: SafetensorsDtype, count: number, where: string): Float32Array | Int32Array {
  const b = raw.buffer;
  switch (dtype) {
    case 'F32':
      return new Float32Array(b, 0, count);
    case 'F64':
      return Float32Array.from(new Float64Array(b, 0, count));
    case 'F16':
      return f16ToF32(new Uint16Array(b, 0, count));
    case 'BF16':
      return bf16ToF32(new Uint16Array(b, 0, count));
    case 'I32':
      return new Int32Array(b, 0, count);
    case 'I16':
      return Int32Array.from(new Int16Array(b, 0, count));
    case 'I8':
      return Int32Array.from(new Int8Array(b, 0, count));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(new Uint8Array(b, 0, count));
    case 'I64': {
      const src = new BigInt64Array(b, 0, count);
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = src[i]!;
        if (v > 2147483647n || v < -2147483648n) {
          throw new DistilleryError('SAFETENSORS_INVALID', `I64 value ${v} at index ${i} does not fit in int32`, {
            where,
          });
        }
        out[i] = Number(v);
      }
      return out;
    }
  }
}

/** The JSON header of a file holding `entries` in this order (padded with spaces to 8 bytes), and the data size. */
function headerOf(
  entries: readonly { name: string; dtype: SafetensorsDtype; shape: readonly number[] }[],
  metadata: Readonly<Record<string, string>>,
): { header: Uint8Array; dataBytes: number } {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const { name, dtype, shape } of entries) {
    if (name === '__metadata__') throw bad(name, 'a tensor cannot be named "__metadata__"');
    const bytes = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape: [...shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  // `__metadata__` goes last, as in the PyTorch-made teacher file (readers accept any position).
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let json = JSON.stringify(header);
  const jsonLen = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonLen % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  return { header: out, dataBytes: offset };
}

function checkCount(name: string, data: Float32Array | Int32Array, shape: readonly number[]): void {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `tensor "${name}" has ${data.length} values but shape ${JSON.stringify(shape)} needs ${count}`,
      { where: name },
    );
  }
}

const dtypeOf = (t: { dtype?: SafetensorsInput['dtype'] }, data: Float32Array | Int32Array) =>
  t.dtype ?? (data instanceof Float32Array ? 'F32' : 'I32');

/**
 * Serialise tensors to safetensors bytes. Tensors are laid out contiguously in name order (the compact
 * JSON header lists them in that order, then `__metadata__`), header padded with spaces to 8 bytes.
 */
export function serializeSafetensors(
  tensors: Readonly<Record<string, SafetensorsInput>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const entries = names.map((name) => {
    const t = tensors[name]!;
    checkCount(name, t.data, t.shape);
    return { name, dtype: dtypeOf(t, t.data), shape: t.shape };
  });
  const { header, dataBytes } = headerOf(entries, metadata);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  let pos = header.length;
  for (const e of entries) {
    const bytes = encode(tensors[e.name]!.data, e.dtype, e.name);
    out.set(bytes, pos);
    pos += bytes.length;
  }
  return out;
}

/** A tensor to write whose values are read only when its turn comes ({@link writeSafetensorsStreaming}). */
export interface SafetensorsSource {
  shape: readonly number[];
  /** @default 'F32' */
  dtype?: 'F32' | 'I32';
  /**
   * The values (e.g. `() => tensor.data()`), or consecutive chunks of them in order (a large tensor read a
   * few rows at a time); called once, when the tensor is written.
   */
  read(): Promise<Float32Array | Int32Array> | Float32Array | Int32Array | AsyncIterable<Float32Array | Int32Array>;
}

/**
 * Write a `.safetensors` file atomically, one tensor (or one chunk of one) at a time: the header comes from
 * the shapes, then each source is read, checked by `opts.check` (with the chunk's flat offset) and written
 * before the next is read. The bytes equal {@link writeSafetensors}' for the same values; the memory held is
 * one chunk's, not the file's (a BERT-base student's AdamW moments are 0.5 GB).
 */
export async function writeSafetensorsStreaming(
  path: string,
  tensors: Readonly<Record<string, SafetensorsSource>>,
  metadata: Readonly<Record<string, string>> = {},
  opts: { check?: (name: string, data: Float32Array | Int32Array, offset: number) => void } = {},
): Promise<void> {
  const entries = Object.keys(tensors)
    .sort()
    .map((name) => ({ name, dtype: tensors[name]!.dtype ?? 'F32', shape: tensors[name]!.shape }));
  const { header } = headerOf(entries, metadata);
  await writeFileAtomicWith(path, async (write) => {
    await write(header);
    for (const e of entries) {
      const got = await tensors[e.name]!.read();
      const count = e.shape.reduce((a, b) => a * b, 1);
      if (ArrayBuffer.isView(got)) {
        checkCount(e.name, got, e.shape);
        opts.check?.(e.name, got, 0);
        await write(encode(got, e.dtype, e.name));
        continue;
      }
      let offset = 0;
      for await (const chunk of got) {
        if (offset + chunk.length > count)
          throw new DistilleryError(
            'SHAPE_MISMATCH',
            `tensor "${e.name}": chunks hold more than the ${count} values of shape ${JSON.stringify(e.shape)}`,
            { where: e.name },
          );
        opts.check?.(e.name, chunk, offset);
        await write(encode(chunk, e.dtype, e.name));
        offset += chunk.length;
      }
      if (offset !== count)
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `tensor "${e.name}" has ${offset} values but shape ${JSON.stringify(e.shape)} needs ${count}`,
          { where: e.name },
        );
    }
  });
}

function encode(data: Float32Array | Int32Array, dtype: SafetensorsInput['dtype'] & string, name: string): Uint8Array {
  const isFloat = data instanceof Float32Array;
  if (FLOAT_DTYPES.has(dtype) !== isFloat) {
    throw new DistilleryError(
      'SAFETENSORS_INVALID',
      `tensor "${name}": cannot store ${isFloat ? 'Float32Array' : 'Int32Array'} data as ${dtype}`,
      { where: name },
    );
  }
  switch (dtype) {
    case 'F32':
    case 'I32':
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength); // a view: callers copy or write it
    case 'F16':
      return new Uint8Array(f32ToF16(data as Float32Array).buffer);
    case 'I64':
      return new Uint8Array(BigInt64Array.from(data as Int32Array, (v) => BigInt(v)).buffer);
  }
}

/** Read and parse a `.safetensors` file. Errors name the file. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new DistilleryError('IO_READ_FAILED', `cannot read safetensors file: ${(err as Error).message}`, {
      where: path,
      cause: err,
    });
  }
  return parseSafetensors(bytes, path);
}

/** Serialise and write a `.safetensors` file atomically (temp file + fsync + rename). */
export async function writeSafetensors(
  path: string,
  tensors: Readonly<Record<string, SafetensorsInput>>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
