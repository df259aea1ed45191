/**
 * Fast paths for BatchMatMul and _FusedMatMul on the stock 'wasm' backend (tfjs-backend-wasm 4.22).
 *
 * The stock kernels hand a product to XNNPACK (~11 GFLOP/s here) only when neither operand is transposed and
 * there is a single matrix on each side; anything else (`transposeA`/`transposeB`, batch dimensions) runs a
 * naive loop at ~0.5–2 GFLOP/s. tfjs's matMul gradient issues exactly those transposed products. The
 * replacements below reduce every float32 product above a size threshold to that fast case:
 *  - a transposed operand is materialised once with wasm's own Transpose kernel;
 *  - batches against a single right-hand matrix are folded into the rows of one product;
 *  - other batches (with broadcasting) run one 2-D product per output matrix, copied in and out of the wasm
 *    heap.
 * Small products (and non-float32 inputs) go to the stock kernel unchanged.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { DataType, KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use. */
interface WasmBackend extends KernelBackend {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/**
 * Work (multiply-adds) of one product from which a transposed operand is materialised (or a's batches folded).
 * Measured on tfjs-backend-wasm 4.22 (SIMD, one thread): at 16³ the extra Transpose costs about what it saves,
 * from 24³ the fast path wins (×1.7), from 64³ by ×8 and more; see the core README ("wasm fallback").
 */
export const WASM_MATMUL_MIN_WORK = 8192;
/**
 * Per-matrix work from which batched products run as one 2-D product per matrix: each pays a copy and XNNPACK's
 * packing of the right-hand matrix, so the break-even is higher (24³: ×0.9, 32³: ×3).
 */
export const WASM_MATMUL_MIN_BATCH_WORK = 32768;

let minWork = WASM_MATMUL_MIN_WORK;
let minBatchWork = WASM_MATMUL_MIN_BATCH_WORK;

/** True when the fast path is worth it for plan `p` (see the thresholds above). */
function worthIt(p: Plan, loops: boolean): boolean {
  const perMatrix = p.m * p.n * p.k;
  return loops ? perMatrix >= minBatchWork : perMatrix * p.aIndex.length >= minWork;
}

interface Plan {
  m: number;
  n: number;
  k: number;
  batchA: number;
  batchB: number;
  outShape: number[];
  /** Which matrix of a / b feeds each output matrix (batch dimensions broadcast). */
  aIndex: Int32Array;
  bIndex: Int32Array;
}

/** The product's dimensions, or null when the shapes do not fit (the stock kernel then reports the error). */
export function planMatMul(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): Plan | null {
  const ar = aShape.length,
    br = bShape.length;
  if (ar < 2 || br < 2) return null;
  const k = transposeA ? aShape[ar - 2]! : aShape[ar - 1]!;
  const kb = transposeB ? bShape[br - 1]! : bShape[br - 2]!;
  const m = transposeA ? aShape[ar - 1]! : aShape[ar - 2]!;
  const n = transposeB ? bShape[br - 2]! : bShape[br - 1]!;
  if (k !== kb) return null;
  const aBatch = aShape.slice(0, -2),
    bBatch = bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const pa = [...new Array<number>(rank - aBatch.length).fill(1), ...aBatch];
  const pb = [...new Array<number>(rank - bBatch.length).fill(1), ...bBatch];
  const outBatch: number[] = [];
  for (let d = 0; d < rank; d++) {
    const x = pa[d]!,
      y = pb[d]!;
    if (x !== y && x !== 1 && y !== 1) return null;
    outBatch.push(x === 1 ? y : x);
  }
  const total = outBatch.reduce((p, d) => p * d, 1);
  const aIndex = new Int32Array(total),
    bIndex = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    let rem = i,
      ia = 0,
      ib = 0,
      sa = 1,
      sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rem % outBatch[d]!;
      rem = Math.floor(rem / outBatch[d]!);
      if (pa[d] !== 1) ia += idx * sa;
      if (pb[d] !== 1) ib += idx * sb;
      sa *= pa[d]!;
      sb *= pb[d]!;
    }
    aIndex[i] = ia;
    bIndex[i] = ib;
  }
  const batchA = pa.reduce((p, d) => p * d, 1),
    batchB = pb.reduce((p, d) => p * d, 1);
  return { m, n, k, batchA, batchB, outShape: [...outBatch, m, n], aIndex, bIndex };
}

function swapLast2(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function offsetOf(backend: WasmBackend, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('wasm matMul: tensor data is not on the wasm backend');
  return data.memoryOffset >>> 2;
}

/** The stock kernels the replacements delegate to. */
interface Stock {
  batchMatMul: KernelFunc;
  fusedMatMul: KernelFunc;
  transpose: KernelFunc;
}

/** A (possibly transposed) operand as a row-major stack of `batch` matrices; `owned` when it must be disposed. */
function materialise(
  stock: Stock,
  backend: WasmBackend,
  x: TensorInfo,
  transpose: boolean,
): { t: TensorInfo; owned: boolean } {
  if (!transpose) return { t: x, owned: false };
  const t = stock.transpose({ inputs: { x }, backend, attrs: { perm: swapLast2(x.shape.length) } }) as TensorInfo;
  return { t, owned: true };
}

/** Plain (non-transposed) product of stacks `a` [.., m, k] and `b` [.., k, n] per `p`, as fast products. */
function plainProduct(stock: Stock, backend: WasmBackend, a: TensorInfo, b: TensorInfo, p: Plan): TensorInfo {
  const { m, n, k } = p;
  const total = p.aIndex.length;
  const attrs = { transposeA: false, transposeB: false };
  if (total === 1 || p.batchB === 1) {
    // One product; batches of `a` against a single `b` fold into the rows (batchA·m × k).
    const a2: TensorInfo = { dataId: a.dataId, shape: [1, p.batchA * m, k], dtype: a.dtype };
    const b2: TensorInfo = { dataId: b.dataId, shape: [1, k, n], dtype: b.dtype };
    const out = stock.batchMatMul({ inputs: { a: a2, b: b2 }, backend, attrs }) as TensorInfo;
    out.shape = p.outShape;
    return out;
  }
  // One 2-D product per output matrix: copy the operands' matrices into fresh scratch tensors (fresh, because
  // the stock kernel caches XNNPACK's packed right-hand matrix by tensor id), copy each result out.
  const out = backend.makeOutput(p.outShape, 'float32');
  try {
    for (let i = 0; i < total; i++) {
      const sa = p.batchA > 1 ? backend.makeOutput([1, m, k], 'float32') : { ...a, shape: [1, m, k] };
      const sb = backend.makeOutput([1, k, n], 'float32');
      try {
        const heap = backend.wasm.HEAPF32; // after the allocations, which may grow the memory
        const ao = offsetOf(backend, a) + p.aIndex[i]! * m * k,
          bo = offsetOf(backend, b) + p.bIndex[i]! * k * n;
        if (p.batchA > 1) heap.copyWithin(offsetOf(backend, sa), ao, ao + m * k);
        heap.copyWithin(offsetOf(backend, sb), bo, bo + k * n);
        const r = stock.batchMatMul({ inputs: { a: sa, b: sb }, backend, attrs }) as TensorInfo;
        const ro = offsetOf(backend, r);
        backend.wasm.HEAPF32.copyWithin(offsetOf(backend, out) + i * m * n, ro, ro + m * n);
        backend.disposeData(r.dataId);
      } finally {
        if (p.batchA > 1) backend.disposeData(sa.dataId);
        backend.disposeData(sb.dataId);
      }
    }
  } catch (err) {
    backend.disposeData(out.dataId);
    throw err;
  }
  return out;
}

function makeBatchMatMul(stock: Stock): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock.batchMatMul(args);
    const p = planMatMul(a.shape, b.shape, !!transposeA, !!transposeB);
    if (!p || p.aIndex.length === 0) return stock.batchMatMul(args);
    const loops = p.aIndex.length > 1 && p.batchB > 1;
    if (!transposeA && !transposeB && p.aIndex.length === 1) return stock.batchMatMul(args);
    if (!worthIt(p, loops)) return stock.batchMatMul(args);
    const backend = args.backend as WasmBackend;
    const ma = materialise(stock, backend, a, !!transposeA);
    try {
      const mb = materialise(stock, backend, b, !!transposeB);
      try {
        return plainProduct(stock, backend, ma.t, mb.t, p);
      } finally {
        if (mb.owned) backend.disposeData(mb.t.dataId);
      }
    } finally {
      if (ma.owned) backend.disposeData(ma.t.dataId);
    }
  };
}

function makeFusedMatMul(stock: Stock): KernelFunc {
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as {
      a: TensorInfo;
      b: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock.fusedMatMul(args);
    const p = planMatMul(a.shape, b.shape, !!attrs.transposeA, !!attrs.transposeB);
    if (!p || p.aIndex.length === 0) return stock.fusedMatMul(args);
    const backend = args.backend as WasmBackend;
    // Fold a's batches into rows when b is a single matrix and the epilogue is per column (rank-1 bias, no PReLU
    // weights, which broadcast against the whole output); the fused epilogue then stays in the one product.
    const fold = p.aIndex.length > 1 && p.batchB === 1 && !preluActivationWeights;
    if (!attrs.transposeA && !attrs.transposeB && !fold) return stock.fusedMatMul(args);
    if (!fold && p.aIndex.length > 1) return stock.fusedMatMul(args); // batched both sides: stock loops anyway
    if (!worthIt(p, false)) return stock.fusedMatMul(args);
    const ma = materialise(stock, backend, a, !!attrs.transposeA);
    try {
      const mb = materialise(stock, backend, b, !!attrs.transposeB);
      try {
        const a2: TensorInfo = fold ? { ...ma.t, shape: [1, p.batchA * p.m, p.k] } : ma.t;
        const b2: TensorInfo = fold ? { ...mb.t, shape: [1, p.k, p.n] } : mb.t;
        const inputs: Record<string, TensorInfo> = { a: a2, b: b2 };
        if (bias) inputs.bias = bias;
        if (preluActivationWeights) inputs.preluActivationWeights = preluActivationWeights;
        const out = stock.fusedMatMul({
          inputs,
          backend,
          attrs: { ...args.attrs, transposeA: false, transposeB: false },
        }) as TensorInfo;
        out.shape = p.outShape;
        return out;
      } finally {
        if (mb.owned) backend.disposeData(mb.t.dataId);
      }
    } finally {
      if (ma.owned) backend.disposeData(ma.t.dataId);
    }
  };
}

/** Marks the replacement kernel functions, so that registering twice does not wrap them twice. */
const REPLACEMENT = Symbol('distillery.wasmMatMul');

function isReplacement(k: KernelConfig | undefined): boolean {
  return !!k && (k.kernelFunc as { [REPLACEMENT]?: true })[REPLACEMENT] === true;
}

/** Options of {@link registerWasmMatMulKernels}. */
export interface WasmMatMulOptions {
  /** Work of one product from which the fast paths are taken (default {@link WASM_MATMUL_MIN_WORK}). */
  minWork?: number;
  /** Per-matrix work from which batches run matrix by matrix (default {@link WASM_MATMUL_MIN_BATCH_WORK}). */
  minBatchWork?: number;
}

/**
 * Replace the 'wasm' backend's BatchMatMul and _FusedMatMul with the fast paths above, keeping the stock
 * kernels (and their setup functions) to delegate to. Only the backend named 'wasm' is touched: 'native'
 * registers its own BLAS kernels for these names. Idempotent (a second call only updates the thresholds).
 * Returns false when tfjs-backend-wasm's kernels are not registered.
 */
export function registerWasmMatMulKernels(opts: WasmMatMulOptions = {}): boolean {
  if (opts.minWork !== undefined) minWork = opts.minWork;
  if (opts.minBatchWork !== undefined) minBatchWork = opts.minBatchWork;
  const bmm = getKernel('BatchMatMul', 'wasm');
  const fused = getKernel('_FusedMatMul', 'wasm');
  const transpose = getKernel('Transpose', 'wasm');
  if (!bmm || !fused || !transpose) return false;
  if (isReplacement(bmm) && isReplacement(fused)) return true;
  if (isReplacement(bmm) || isReplacement(fused)) throw new Error('wasm matMul kernels are half replaced');
  const stock: Stock = { batchMatMul: bmm.kernelFunc, fusedMatMul: fused.kernelFunc, transpose: transpose.kernelFunc };
  const replace = (stock: KernelConfig, kernelFunc: KernelFunc): void => {
    Object.defineProperty(kernelFunc, REPLACEMENT, { value: true });
    unregisterKernel(stock.kernelName, 'wasm');
    registerKernel({
      kernelName: stock.kernelName,
      backendName: 'wasm',
      kernelFunc,
      ...(stock.setupFunc ? { setupFunc: stock.setupFunc } : {}),
      ...(stock.disposeFunc ? { disposeFunc: stock.disposeFunc } : {}),
    });
  };
  replace(bmm, makeBatchMatMul(stock));
  replace(fused, makeFusedMatMul(stock));
  return true;
}
