/**
 * Loading of the N-API addon (`build/Release/distillery_native.node`), built by `npm run build:native`.
 * The addon is optional: when it is missing, {@link loadAddon} returns null and {@link addonLoadError} says why.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { DistilleryError } from '@distillery/core';

/** Op codes of the addon's kernels, exported by the addon itself from its C++ enums (never copied by hand). */
export interface NativeOpCodes {
  readonly binary: Readonly<Record<'add' | 'sub' | 'mul' | 'div' | 'squaredDiff' | 'max' | 'min', number>>;
  readonly unary: Readonly<
    Record<
      | 'exp'
      | 'erf'
      | 'tanh'
      | 'sqrt'
      | 'rsqrt'
      | 'neg'
      | 'square'
      | 'log'
      | 'sigmoid'
      | 'relu'
      | 'abs'
      | 'reciprocal'
      | 'identity',
      number
    >
  >;
  readonly activation: Readonly<Record<'linear' | 'relu' | 'relu6' | 'elu' | 'leakyrelu' | 'sigmoid', number>>;
}

/**
 * The functions exported by the C++ addon. Offsets are byte offsets into `heap` (the wasm memory). Every function
 * checks its argument count, types and that each region lies inside `heap`, and throws a TypeError/RangeError
 * otherwise (native/args.h).
 */
/** Dropout arguments of the entry points: rate (0: none), Philox seed, stream and counter. */
export type DropoutArgs = [rate: number, seed: number, stream: number, counter: number];
/** Trailing arguments of the packed attention entry points: shape, score scale and the dropout of the probabilities. */
export type PackedAttentionArgs = [
  batch: number,
  len: number,
  heads: number,
  dh: number,
  scale: number,
  ...DropoutArgs,
];

export interface NativeAddon {
  /** Op codes of `binary`, `unary` and `gemm`'s activation. */
  readonly ops: NativeOpCodes;
  setThreads(n: number): void;
  getThreads(): number;
  blasConfig(): string;
  /** The pool of the addon's parallel kernels: `omp` (libgomp's, shared with oneDNN) or `own`. */
  poolKind(): PoolKind;
  gemm(
    heap: ArrayBuffer,
    aOff: number,
    bOff: number,
    cOff: number,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    aIndex: Int32Array,
    bIndex: Int32Array,
    biasOff: number,
    biasSize: number,
    activation: number,
    alpha: number,
  ): void;
  binary(
    heap: ArrayBuffer,
    op: number,
    aOff: number,
    bOff: number,
    outOff: number,
    shape: Int32Array,
    aStrides: Int32Array,
    bStrides: Int32Array,
  ): void;
  unary(heap: ArrayBuffer, op: number, xOff: number, outOff: number, size: number): void;
  reduceSum(
    heap: ArrayBuffer,
    xOff: number,
    outOff: number,
    outer: number,
    reduce: number,
    inner: number,
    scale: number,
  ): void;
  softmax(heap: ArrayBuffer, xOff: number, outOff: number, rows: number, cols: number): void;
  gather(
    heap: ArrayBuffer,
    xOff: number,
    idxOff: number,
    outOff: number,
    outer: number,
    axisDim: number,
    nIdx: number,
    inner: number,
  ): void;
  segmentSum(
    heap: ArrayBuffer,
    xOff: number,
    idsOff: number,
    outOff: number,
    rows: number,
    inner: number,
    numSegments: number,
  ): void;
  transpose(heap: ArrayBuffer, xOff: number, outOff: number, outShape: Int32Array, inStrides: Int32Array): void;
  adam(
    heap: ArrayBuffer,
    pOff: number,
    gOff: number,
    mOff: number,
    vOff: number,
    pOutOff: number,
    mOutOff: number,
    vOutOff: number,
    n: number,
    beta1: number,
    beta2: number,
    eps: number,
    oneMinusBeta1: number,
    oneMinusBeta2: number,
    l2: number,
    decay: number,
    stepSize: number,
    sqrtBc2: number,
  ): void;
  /**
   * Every parameter's Adam step in one call, `p`, `m` and `v` rewritten in place: `regions` holds each parameter's
   * p, g, m, v element offsets (4 per parameter), `scalars` its l2, decay and stepSize (3 per parameter).
   */
  adamInPlace(
    heap: ArrayBuffer,
    regions: Int32Array,
    sizes: Int32Array,
    scalars: Float32Array,
    beta1: number,
    beta2: number,
    eps: number,
    oneMinusBeta1: number,
    oneMinusBeta2: number,
    sqrtBc2: number,
  ): void;
  layerNorm(
    heap: ArrayBuffer,
    xOff: number,
    gammaOff: number,
    betaOff: number,
    yOff: number,
    meanOff: number,
    rstdOff: number,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  layerNormGrad(
    heap: ArrayBuffer,
    dyOff: number,
    xOff: number,
    gammaOff: number,
    meanOff: number,
    rstdOff: number,
    dxOff: number,
    dgammaOff: number,
    dbetaOff: number,
    rows: number,
    cols: number,
  ): void;
  gelu(heap: ArrayBuffer, xOff: number, yOff: number, n: number): void;
  geluGrad(heap: ArrayBuffer, dyOff: number, xOff: number, dxOff: number, n: number): void;
  /** Philox dropout; `rate, seed, stream, counter` as in `DropoutAttrs` of `@distillery/core/kernels`. */
  dropout(
    heap: ArrayBuffer,
    xOff: number,
    yOff: number,
    n: number,
    rate: number,
    seed: number,
    stream: number,
    counter: number,
  ): void;
  dropoutAddLayerNorm(
    heap: ArrayBuffer,
    xOff: number,
    resOff: number,
    gammaOff: number,
    betaOff: number,
    yOff: number,
    meanOff: number,
    rstdOff: number,
    rows: number,
    cols: number,
    eps: number,
    rate: number,
    seed: number,
    stream: number,
    counter: number,
  ): void;
  dropoutAddLayerNormGrad(
    heap: ArrayBuffer,
    dyOff: number,
    xOff: number,
    resOff: number,
    gammaOff: number,
    meanOff: number,
    rstdOff: number,
    dxOff: number,
    dresOff: number,
    dgammaOff: number,
    dbetaOff: number,
    rows: number,
    cols: number,
    rate: number,
    seed: number,
    stream: number,
    counter: number,
  ): void;
  /** `maskOff` < 0: no mask; row r of [rows, cols] adds mask row ⌊r / rowsPerMask⌋. */
  attentionSoftmax(
    heap: ArrayBuffer,
    sOff: number,
    maskOff: number,
    outOff: number,
    rows: number,
    cols: number,
    rowsPerMask: number,
    scale: number,
  ): void;
  attentionSoftmaxGrad(
    heap: ArrayBuffer,
    dyOff: number,
    probsOff: number,
    dsOff: number,
    rows: number,
    cols: number,
    scale: number,
  ): void;
  /**
   * Attention on a packed [q | k | v] projection [batch, len, 3·heads·dh] (read in place at that stride):
   * probs [batch, heads, len, len] and ctx [batch, len, heads·dh] = dropout(probs)·v (rate 0: none). `maskOff` < 0:
   * no mask.
   */
  attentionPacked(
    heap: ArrayBuffer,
    qkvOff: number,
    maskOff: number,
    probsOff: number,
    ctxOff: number,
    ...rest: PackedAttentionArgs
  ): void;
  /** Gradient of attentionPacked: dqkv (layout of qkv) from dctx and, when `dprobsOff` ≥ 0, dprobs. */
  attentionPackedGrad(
    heap: ArrayBuffer,
    dctxOff: number,
    dprobsOff: number,
    probsOff: number,
    qkvOff: number,
    dqkvOff: number,
    ...rest: PackedAttentionArgs
  ): void;
  /** Σ of squares of the float32 regions (offsets and sizes in 4-byte elements), accumulated in double. */
  sumSquares(heap: ArrayBuffer, elementOffsets: Int32Array, sizes: Int32Array): number;
  /** pre = x·wᵀ + bias (x [m, k], w [n, k]) and y = GELU(pre); `preOff` < 0: y only, computed in place. */
  linearGelu(
    heap: ArrayBuffer,
    xOff: number,
    wOff: number,
    biasOff: number,
    preOff: number,
    yOff: number,
    m: number,
    n: number,
    k: number,
  ): void;
  /** Threads of the fused row-wise kernels (dropout, LayerNorm, attention softmax); BLAS keeps `setThreads`. */
  setFusedThreads(n: number): void;
  getFusedThreads(): number;
}

/** Absolute path of the package root (works from both `src/` and `dist/`). */
export const packageRoot: string = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the compiled addon is expected. */
export const addonPath: string = join(packageRoot, 'build', 'Release', 'distillery_native.node');

let cached: NativeAddon | null | undefined;
let loadError = '';

/**
 * Number of BLAS/kernel threads: `DISTILLERY_BLAS_THREADS` when set to a positive integer, otherwise the
 * number of cores (`os.availableParallelism()`), so BLAS never oversubscribes the machine.
 */
export function blasThreads(): number {
  const env = Number.parseInt(process.env.DISTILLERY_BLAS_THREADS ?? '', 10);
  return Number.isFinite(env) && env > 0 ? env : Math.max(1, availableParallelism());
}

/**
 * Threads of the fused row-wise kernels: `DISTILLERY_FUSED_THREADS` when set to a positive integer, otherwise
 * the BLAS thread count.
 */
export function fusedThreads(): number {
  const env = Number.parseInt(process.env.DISTILLERY_FUSED_THREADS ?? '', 10);
  return Number.isFinite(env) && env > 0 ? env : blasThreads();
}

/** The pools of the addon's parallel kernels (native/threads.cc). */
export const POOL_KINDS = ['auto', 'omp', 'own'] as const;
/** A value of `DISTILLERY_POOL` other than `auto`. */
export type PoolKind = 'omp' | 'own';

/**
 * The pool requested by `DISTILLERY_POOL`: `auto` (unset; OpenMP when oneDNN runs the large products, our own pool
 * when OpenBLAS runs them all), `omp` or `own`.
 * @throws DistilleryError INVALID_INPUT for any other value.
 */
export function requestedPool(): (typeof POOL_KINDS)[number] {
  const raw = (process.env.DISTILLERY_POOL ?? '').trim().toLowerCase() || 'auto';
  if (!(POOL_KINDS as readonly string[]).includes(raw))
    throw new DistilleryError('INVALID_INPUT', `unknown thread pool "${process.env.DISTILLERY_POOL}"`, {
      where: 'DISTILLERY_POOL',
      hint: `use one of ${POOL_KINDS.join(', ')} (auto: OpenMP when oneDNN runs the products, else our own pool)`,
    });
  return raw as (typeof POOL_KINDS)[number];
}

/** Load the addon once and configure its thread count; null when it is not built or fails to load. */
export function loadAddon(): NativeAddon | null {
  if (cached !== undefined) return cached;
  if (!existsSync(addonPath)) {
    loadError = `native addon not built (${addonPath} missing); run \`npm run build:native -w @distillery/backend-native\` after \`apt-get install -y libopenblas-dev\``;
    cached = null;
    return cached;
  }
  // The addon reads DISTILLERY_POOL as given: hand it the checked, normalised value (" OMP " → "omp").
  const pool = requestedPool();
  process.env.DISTILLERY_POOL = pool;
  // libgomp loads with the addon and reads its wait policy then. Our own pool next to oneDNN's OpenMP workers
  // wants them asleep as soon as a product ends (they would take the cores from our kernels).
  if (pool === 'own' && process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = 'PASSIVE';
  try {
    const require = createRequire(import.meta.url);
    const addon = require(addonPath) as NativeAddon;
    // An addon built from older sources lacks the op-code table (and the argument checks): rebuild it.
    if (typeof addon.ops !== 'object' || addon.ops === null || typeof addon.poolKind !== 'function')
      throw new Error(
        'it is out of date (no "ops" or "poolKind" export); rebuild it with `npm run build:native -w @distillery/backend-native -- --force`',
      );
    // Set once: OpenBLAS's threads and the persistent pool of the fused kernels live as long as the process.
    addon.setThreads(blasThreads());
    addon.setFusedThreads(fusedThreads());
    cached = addon;
  } catch (err) {
    loadError = `native addon failed to load from ${addonPath}: ${(err as Error).message}`;
    cached = null;
  }
  return cached;
}

/** Why {@link loadAddon} returned null ('' when the addon loaded). */
export function addonLoadError(): string {
  loadAddon();
  return loadError;
}
