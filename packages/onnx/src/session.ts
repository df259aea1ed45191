/**
 * A thin, checked wrapper around an onnxruntime-node `InferenceSession`: options with defaults, typed
 * feeds (int64 ids, int32/bool masks converted from our Int32Array batches), clear errors, dispose.
 * @packageDocumentation
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { DistilleryError, suggest } from '@distillery/core';
import { diagnoseOnnxBytes } from './proto.js';

/** ORT graph optimisation levels. */
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** Options of {@link OnnxSession.create}. */
export interface OnnxSessionOptions {
  /**
   * Execution providers in order of preference (`cpu`, `cuda`, `webgpu`, …); ones the installed build
   * lacks are an error naming those it has.
   * @default ['cpu']
   */
  executionProviders?: string[];
  /** Threads of one operator; 0 lets ORT choose (one per physical core). @default 0 */
  intraOpThreads?: number;
  /** Graph optimisation (operator fusion, constant folding). @default 'all' */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** ORT's own log: 0 verbose … 3 error, 4 fatal only. @default 2 */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

/** A tensor fed to or read from the graph, as plain data. */
export interface OnnxFeed {
  data: Int32Array | Float32Array | BigInt64Array | Uint8Array | number[];
  dims: readonly number[];
}

/** What the graph declares for one input or output. */
export interface OnnxValueInfo {
  name: string;
  /** ORT element type: `int64`, `int32`, `bool`, `float32`, `float16`, … */
  type: string;
  /** Dimensions: numbers for fixed axes, names (`batch`) or -1 for dynamic ones. */
  shape: (number | string)[];
}

/** Read and validate an ONNX file (existence, non-empty, protobuf that holds a graph). */
export function readOnnxFile(path: string): Uint8Array {
  if (!existsSync(path))
    throw new DistilleryError('FILE_NOT_FOUND', 'ONNX model file not found', {
      where: path,
      hint: 'pass the path of a .onnx file (or a folder holding model.onnx / onnx/model.onnx)',
    });
  if (statSync(path).isDirectory())
    throw new DistilleryError('MODEL_INVALID', 'expected an .onnx file, got a folder', {
      where: path,
      hint: 'use resolveOnnxPath() or pass <dir>/model.onnx',
    });
  const bytes = readFileSync(path);
  if (bytes.length === 0) throw new DistilleryError('MODEL_INVALID', 'the ONNX file is empty', { where: path });
  return bytes;
}

/** An open ONNX Runtime session with its graph's declared inputs and outputs. */
export class OnnxSession {
  private disposed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    /** Where the model came from (errors name it). */
    readonly path: string,
    readonly inputs: OnnxValueInfo[],
    readonly outputs: OnnxValueInfo[],
  ) {}

  /** Open a model file (or bytes, with `path` only naming it in errors). */
  static async create(path: string, opts: OnnxSessionOptions = {}, bytes?: Uint8Array): Promise<OnnxSession> {
    const data = bytes ?? readOnnxFile(path);
    const eps = opts.executionProviders ?? ['cpu'];
    const have = ort.listSupportedBackends().map((b) => b.name);
    for (const ep of eps) {
      if (!have.includes(ep))
        throw new DistilleryError(
          'CONFIG_INVALID',
          `execution provider "${ep}" is not in this onnxruntime-node build`,
          { where: 'executionProviders', hint: suggest(ep, have) },
        );
    }
    const threads = opts.intraOpThreads ?? 0;
    if (!Number.isInteger(threads) || threads < 0)
      throw new DistilleryError('CONFIG_INVALID', `intraOpThreads must be an integer >= 0, got ${threads}`, {
        where: 'intraOpThreads',
      });
    const level = opts.graphOptimizationLevel ?? 'all';
    if (!['disabled', 'basic', 'extended', 'all'].includes(level)) {
      throw new DistilleryError('CONFIG_INVALID', `unknown graph optimisation level "${level}"`, {
        where: 'graphOptimizationLevel',
        hint: suggest(level, ['disabled', 'basic', 'extended', 'all']),
      });
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(data, {
        executionProviders: eps,
        intraOpNumThreads: threads,
        graphOptimizationLevel: level,
        logSeverityLevel: opts.logSeverityLevel ?? 2,
      });
    } catch (e) {
      // ORT's own message ("Protobuf parsing failed") says little: say what is wrong with the file.
      const fileProblem = diagnoseOnnxBytes(data);
      const msg = e instanceof Error ? e.message : String(e);
      const extra = eps.filter((p) => p !== 'cpu');
      if (!fileProblem && extra.length) {
        // Listed providers may still be absent: GPU libraries are a separate download (skipped by ONNXRUNTIME_NODE_INSTALL=skip).
        throw new DistilleryError(
          'BACKEND_UNAVAILABLE',
          `execution provider ${extra.map((p) => `"${p}"`).join(', ')} could not be started: ${msg.split('\n')[0]}`,
          {
            where: 'executionProviders',
            hint: 'use ["cpu"], or install the onnxruntime-node build with that provider',
            cause: e,
          },
        );
      }
      throw new DistilleryError('MODEL_INVALID', `not a loadable ONNX model: ${fileProblem ?? msg}`, {
        where: path,
        hint: 'export it again (distillery export --format onnx) or check that the download finished',
        cause: e,
      });
    }
    const info = (m: readonly ort.InferenceSession.ValueMetadata[]): OnnxValueInfo[] =>
      m.map((v) =>
        v.isTensor
          ? { name: v.name, type: v.type, shape: [...v.shape] }
          : { name: v.name, type: 'non-tensor', shape: [] },
      );
    return new OnnxSession(session, path, info(session.inputMetadata), info(session.outputMetadata));
  }

  /** Graph input names, in graph order. */
  get inputNames(): string[] {
    return this.inputs.map((i) => i.name);
  }

  /** Graph output names, in graph order. */
  get outputNames(): string[] {
    return this.outputs.map((o) => o.name);
  }

  /**
   * Run the graph. Every graph input needs a feed; integer feeds are converted to the declared type
   * (int64, int32, bool, float32). Returns the requested outputs (default: all) as plain arrays.
   */
  async run(
    feeds: Readonly<Record<string, OnnxFeed>>,
    outputNames: readonly string[] = this.outputNames,
  ): Promise<
    Record<string, { data: Float32Array | Int32Array | BigInt64Array | Uint8Array; dims: number[]; type: string }>
  > {
    if (this.disposed) throw new DistilleryError('DISPOSED', 'the ONNX session was disposed', { where: this.path });
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const inp of this.inputs) {
      const f = feeds[inp.name];
      if (!f) {
        throw new DistilleryError('ONNX_INPUT_MISSING', `graph input "${inp.name}" has no value`, {
          where: this.path,
          hint: `the graph's inputs are ${this.inputNames.join(', ')}; given: ${Object.keys(feeds).join(', ') || 'nothing'}`,
        });
      }
      ortFeeds[inp.name] = toOrtTensor(inp, f, this.path);
    }
    for (const k of Object.keys(feeds)) {
      if (!this.inputNames.includes(k))
        throw new DistilleryError('ONNX_INPUT_UNKNOWN', `"${k}" is not an input of the graph`, {
          where: this.path,
          hint: suggest(k, this.inputNames),
        });
    }
    for (const o of outputNames) {
      if (!this.outputNames.includes(o))
        throw new DistilleryError('ONNX_OUTPUT_UNKNOWN', `the graph has no output "${o}"`, {
          where: this.path,
          hint: suggest(o, this.outputNames),
        });
    }
    const res = await this.session.run(ortFeeds, [...outputNames]);
    const out: Record<
      string,
      { data: Float32Array | Int32Array | BigInt64Array | Uint8Array; dims: number[]; type: string }
    > = {};
    for (const name of outputNames) {
      const t = res[name]!;
      out[name] = { data: t.data as Float32Array, dims: [...t.dims], type: t.type };
      t.dispose();
    }
    for (const t of Object.values(ortFeeds)) t.dispose();
    return out;
  }

  /** Release the native session (idempotent). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

const INT_TYPES = new Set(['int64', 'int32', 'bool', 'float32']);

/** Convert a feed to the graph's declared element type, after checking rank and fixed dimensions. */
function toOrtTensor(inp: OnnxValueInfo, f: OnnxFeed, where: string): ort.Tensor {
  const n = f.dims.reduce((a, b) => a * b, 1);
  const gotType =
    f.data instanceof BigInt64Array
      ? 'int64'
      : f.data instanceof Float32Array
        ? 'float32'
        : f.data instanceof Uint8Array
          ? 'uint8'
          : 'int32';
  const describe = `expected ${inp.type} [${inp.shape.join(', ')}], got ${gotType} [${f.dims.join(', ')}]`;
  if (f.data.length !== n)
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `input "${inp.name}": ${f.data.length} values for dims [${f.dims.join(', ')}]`,
      { where },
    );
  const fixedOk =
    inp.shape.length === f.dims.length && inp.shape.every((d, i) => typeof d !== 'number' || d < 0 || d === f.dims[i]);
  if (!fixedOk)
    throw new DistilleryError('SHAPE_MISMATCH', `input "${inp.name}": ${describe}`, {
      where,
      hint: 'the graph does not fit this batch: check the tokenizer and the export options',
    });
  // Float data for an integer input (or the reverse) is a caller bug, not something to round silently.
  if (!INT_TYPES.has(inp.type) || (gotType === 'float32') !== (inp.type === 'float32')) {
    throw new DistilleryError('DTYPE_MISMATCH', `input "${inp.name}": ${describe}`, { where });
  }
  const dims = [...f.dims];
  const src = f.data;
  switch (inp.type) {
    case 'int64':
      return new ort.Tensor(
        'int64',
        src instanceof BigInt64Array ? src : BigInt64Array.from(src as ArrayLike<number>, (v) => BigInt(v)),
        dims,
      );
    case 'int32':
      return new ort.Tensor(
        'int32',
        src instanceof Int32Array ? src : Int32Array.from(src as ArrayLike<number>, Number),
        dims,
      );
    case 'bool':
      return new ort.Tensor(
        'bool',
        Uint8Array.from(src as ArrayLike<number>, (v) => (Number(v) ? 1 : 0)),
        dims,
      );
    default:
      return new ort.Tensor(
        'float32',
        src instanceof Float32Array ? src : Float32Array.from(src as ArrayLike<number>, Number),
        dims,
      );
  }
}
