/**
 * BatchMatMul and _FusedMatMul through OpenBLAS `cblas_sgemm`, in place on the wasm heap: transposes, batches
 * with broadcast batch dimensions, and a fused bias + activation epilogue. Cases the native code does not cover
 * (non-float32 inputs, PReLU, a bias that is not a per-column vector or a scalar) go to the stock wasm kernel.
 */
import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { override, stockKernel } from './stock.js';
import { asWasm, heapOf, offsetOf, sizeOf, type WasmBackendLike } from '../heap.js';

/** tfjs kernel implementing each activation (general path). */
const ACTIVATION_KERNELS: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  leakyrelu: 'LeakyRelu',
  sigmoid: 'Sigmoid',
};

/** The addon's activation code for a tfjs `_FusedMatMul` activation name (codes exported by the addon), if it has one. */
function activationCode(addon: NativeAddon, name: string): number | undefined {
  const table: Readonly<Record<string, number>> = addon.ops.activation;
  return Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}

/** Which matrix of each operand feeds each output batch entry (broadcasting the batch dimensions). */
export function batchIndices(
  aBatch: readonly number[],
  bBatch: readonly number[],
): {
  outBatch: number[];
  aIndex: Int32Array;
  bIndex: Int32Array;
} {
  const rank = Math.max(aBatch.length, bBatch.length);
  const pa = [...new Array<number>(rank - aBatch.length).fill(1), ...aBatch];
  const pb = [...new Array<number>(rank - bBatch.length).fill(1), ...bBatch];
  const outBatch = pa.map((d, i) => {
    const e = pb[i]!;
    if (d !== e && d !== 1 && e !== 1)
      throw new Error(`matMul: batch dimensions ${aBatch.join(',')} and ${bBatch.join(',')} do not broadcast`);
    return Math.max(d, e);
  });
  const total = sizeOf(outBatch);
  const aIndex = new Int32Array(total);
  const bIndex = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    let rem = i,
      ia = 0,
      ib = 0,
      sa = 1,
      sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rem % outBatch[d]!;
      rem = Math.floor(rem / outBatch[d]!);
      if (pa[d]! !== 1) ia += idx * sa;
      if (pb[d]! !== 1) ib += idx * sb;
      sa *= pa[d]!;
      sb *= pb[d]!;
    }
    aIndex[i] = ia;
    bIndex[i] = ib;
  }
  return { outBatch, aIndex, bIndex };
}

interface GemmPlan {
  outShape: number[];
  batch: number;
  m: number;
  n: number;
  k: number;
  aIndex: Int32Array;
  bIndex: Int32Array;
}

/** The batch index of a single product (read only by the addon). */
const ZERO = new Int32Array(1);

function plan(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): GemmPlan {
  const ar = a.shape.length,
    br = b.shape.length;
  const k = transposeA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const kb = transposeB ? b.shape[br - 1]! : b.shape[br - 2]!;
  const m = transposeA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
  const n = transposeB ? b.shape[br - 2]! : b.shape[br - 1]!;
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape.join(',')} and ${b.shape.join(',')} ` +
        `and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  if (br === 2 && (ar === 2 || !transposeA)) {
    // One matrix on the right (a linear layer's weight): the rows of every batch entry of `a` form one [rows, K]
    // matrix (the fold below), without building the broadcast index tables (~28 µs a call in the bench step).
    // An empty batch gives an empty output (tfjs-cpu broadcasts a 0 batch against none to 1).
    const lead = a.shape.slice(0, -2);
    return { outShape: [...lead, m, n], batch: 1, m: m * sizeOf(lead), n, k, aIndex: ZERO, bIndex: ZERO };
  }
  const { outBatch, aIndex, bIndex } = batchIndices(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const outShape = [...outBatch, m, n];
  if (aIndex.length > 1 && !transposeA && foldable(aIndex, bIndex)) {
    // x [B…, M, K] · W (one matrix for every batch entry): the B·M rows of x are one row-major [B·M, K] matrix and
    // the outputs one [B·M, N]; one product of B·M rows instead of B products of M (tf.matMul(x3D, W2D), linear
    // layers on [batch, seq, hidden]).
    return { outShape, batch: 1, m: m * aIndex.length, n, k, aIndex: ZERO, bIndex: ZERO };
  }
  return { outShape, batch: aIndex.length, m, n, k, aIndex, bIndex };
}

/** Whether every batch entry multiplies `a`'s own matrix (in order, none broadcast) by `b`'s only matrix. */
function foldable(aIndex: Int32Array, bIndex: Int32Array): boolean {
  for (let i = 0; i < aIndex.length; i++) if (aIndex[i] !== i || bIndex[i] !== 0) return false;
  return true;
}

function runGemm(
  addon: NativeAddon,
  backend: WasmBackendLike,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias: TensorInfo | null,
  activation: number,
  alpha: number,
): TensorInfo {
  const p = plan(a, b, transposeA, transposeB);
  const out = backend.makeOutput(p.outShape, 'float32');
  const heap = heapOf(backend);
  addon.gemm(
    heap,
    offsetOf(backend, a),
    offsetOf(backend, b),
    offsetOf(backend, out),
    p.batch,
    p.m,
    p.n,
    p.k,
    transposeA,
    transposeB,
    p.aIndex,
    p.bIndex,
    bias ? offsetOf(backend, bias) : -1,
    bias ? sizeOf(bias.shape) : 0,
    activation,
    alpha,
  );
  return out;
}

/** True when `bias` adds one value per output column (or a scalar) to a product of `n` columns. */
function isColumnBias(bias: TensorInfo, n: number): boolean {
  const size = sizeOf(bias.shape);
  if (size === 1) return true;
  return size === n && bias.shape[bias.shape.length - 1] === n;
}

/** Kernel configs for `backendName`; `fallbackBackend` names the backend whose stock kernels handle the rest. */
export function matMulKernels(addon: NativeAddon, backendName: string, fallbackBackend: string): KernelConfig[] {
  const stockBatchMatMul = stockKernel('BatchMatMul', fallbackBackend);
  const stockFused = stockKernel('_FusedMatMul', fallbackBackend);

  const batchMatMul: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return stockBatchMatMul.kernelFunc(args);
    return runGemm(addon, asWasm(args.backend), a, b, !!transposeA, !!transposeB, null, addon.ops.activation.linear, 0);
  };

  const fusedMatMul: KernelFunc = (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as {
      a: TensorInfo;
      b: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const attrs = args.attrs as NamedAttrMap & {
      transposeA: boolean;
      transposeB: boolean;
      activation?: string;
      leakyreluAlpha?: number;
    };
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || (bias && bias.dtype !== 'float32'))
      return stockFused.kernelFunc(args);
    const backend = asWasm(args.backend);
    const activation = attrs.activation ?? 'linear';
    const alpha = attrs.leakyreluAlpha ?? 0.2;
    const n = attrs.transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
    const cBias = !bias || isColumnBias(bias, n);
    const cAct = activationCode(addon, activation);
    if (cBias && cAct !== undefined) {
      return runGemm(addon, backend, a, b, !!attrs.transposeA, !!attrs.transposeB, bias ?? null, cAct, alpha);
    }
    // General case: product (with the bias when it is per-column), then broadcasting Add and the activation kernel.
    let out = runGemm(
      addon,
      backend,
      a,
      b,
      !!attrs.transposeA,
      !!attrs.transposeB,
      cBias ? (bias ?? null) : null,
      addon.ops.activation.linear,
      0,
    );
    const step = (name: string, inputs: Record<string, TensorInfo>, extra: NamedAttrMap = {}): void => {
      const next = stockKernel(name, backendName).kernelFunc({
        inputs,
        backend: args.backend,
        attrs: extra,
      }) as TensorInfo;
      (args.backend as KernelBackend).disposeData(out.dataId);
      out = next;
    };
    if (!cBias && bias) step('Add', { a: out, b: bias });
    if (activation === 'prelu') {
      if (!preluActivationWeights) throw new Error('_FusedMatMul: prelu activation needs preluActivationWeights');
      step('Prelu', { x: out, alpha: preluActivationWeights });
    } else if (activation !== 'linear') {
      const kernel = ACTIVATION_KERNELS[activation];
      if (!kernel) throw new Error(`_FusedMatMul: unknown activation '${activation}'`);
      step(kernel, { x: out }, activation === 'leakyrelu' ? { alpha } : {});
    }
    return out;
  };

  return [override(stockBatchMatMul, backendName, batchMatMul), override(stockFused, backendName, fusedMatMul)];
}
