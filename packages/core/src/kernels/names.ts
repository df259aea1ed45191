/**
 * The fused-kernel contracts between packages, in one place (as tfjs-core's `kernel_names.ts`):
 * each kernel's name, its named inputs, its attributes and its outputs. The 'native' backend
 * (`@distillery/backend-native`) registers these kernels; core's optimizer and the BERT layers of
 * `@distillery/models` call them when the active backend has them. All three import this module
 * (`@distillery/core/kernels`, a light entry point with no other dependency than tfjs-core), so a
 * renamed kernel or a changed input is a compile error on both sides instead of a silent fallback.
 *
 * Every fused kernel is float32-only; callers keep a plain-tfjs path for other dtypes and backends.
 * @packageDocumentation
 */
import { engine, type NamedAttrMap, type NamedTensorMap, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';
import {
  DistilleryAttentionPacked,
  DistilleryAttentionPackedGrad,
  DistilleryAttentionSoftmax,
  DistilleryAttentionSoftmaxGrad,
  type AttentionPackedGradInputs,
  type AttentionPackedInputs,
  type AttentionSoftmaxAttrs,
  type AttentionSoftmaxGradInputs,
  type AttentionSoftmaxInputs,
  type AttentionTrainAttrs,
} from './attention-names.js';

export * from './attention-names.js';

/** One Adam/AdamW step over a parameter: `[p', m', v']` as new tensors (the caller assigns them). */
export const DistilleryAdamW = 'DistilleryAdamW';
export type DistilleryAdamW = typeof DistilleryAdamW;
/** Inputs of {@link DistilleryAdamW}: parameter, gradient and the two moments, all of one shape. */
export interface AdamWInputs<T = TensorInfo> {
  p: T;
  g: T;
  m: T;
  v: T;
}
/**
 * Attributes of {@link DistilleryAdamW}: `m' = β1·m + (1−β1)·g'`, `v' = β2·v + (1−β2)·g'²` with
 * `g' = g + l2·p`, `p' = decay·p − stepSize·m' / (√v' / sqrtBc2 + eps)`.
 */
export interface AdamWAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  /** Adam's L2 penalty added to the gradient (0 for AdamW). */
  l2: number;
  /** AdamW's decoupled decay factor `1 − lr·wd` (1 for Adam). */
  decay: number;
  /** `lr / (1 − β1ᵗ)`. */
  stepSize: number;
  /** `√(1 − β2ᵗ)`. */
  sqrtBc2: number;
}

/**
 * {@link DistilleryAdamW} over many parameters in **one** call that rewrites `p`, `m` and `v` **in place** (their
 * buffers, not new tensors) and returns a scalar (the number of parameters updated). Inputs are the tensors in
 * order `[p0, g0, m0, v0, p1, g1, …]` (as `AddN`'s, four per parameter). Callers must own `p`, `m` and `v`
 * exclusively (no other tensor shares their buffers: `backend.refCount(dataId) === 1`), since tfjs treats tensors
 * as immutable; the optimizer checks that and updates any shared parameter with {@link DistilleryAdamW} instead.
 * Same arithmetic as {@link DistilleryAdamW}, bit for bit.
 */
export const DistilleryAdamWInPlace = 'DistilleryAdamWInPlace';
export type DistilleryAdamWInPlace = typeof DistilleryAdamWInPlace;
/** Attributes of {@link DistilleryAdamWInPlace}: the shared scalars, and per parameter (in input order) its own. */
export interface AdamWInPlaceAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  /** `√(1 − β2ᵗ)`. */
  sqrtBc2: number;
  /** Per parameter: Adam's L2 penalty (0 for AdamW). */
  l2: number[];
  /** Per parameter: AdamW's decay factor `1 − lr·wd` (1 for Adam). */
  decay: number[];
  /** Per parameter: `lr / (1 − β1ᵗ)`. */
  stepSize: number[];
}

/** LayerNorm over the last axis (biased variance, eps inside the root): `[y, mean, rstd]`, mean/rstd of shape `[rows]`. */
export const DistilleryLayerNorm = 'DistilleryLayerNorm';
export type DistilleryLayerNorm = typeof DistilleryLayerNorm;
export interface LayerNormInputs<T = TensorInfo> {
  x: T;
  gamma: T;
  beta: T;
}
export interface LayerNormAttrs {
  epsilon: number;
}

/** Gradient of {@link DistilleryLayerNorm}: `[dx, dgamma, dbeta]`. */
export const DistilleryLayerNormGrad = 'DistilleryLayerNormGrad';
export type DistilleryLayerNormGrad = typeof DistilleryLayerNormGrad;
export interface LayerNormGradInputs<T = TensorInfo> {
  dy: T;
  x: T;
  gamma: T;
  mean: T;
  rstd: T;
}

/** Exact GELU `x/2·(1 + erf(x/√2))`: one output. */
export const DistilleryGelu = 'DistilleryGelu';
export type DistilleryGelu = typeof DistilleryGelu;
export interface GeluInputs<T = TensorInfo> {
  x: T;
}

/** Gradient of {@link DistilleryGelu}: `dy · GELU'(x)`, one output. */
export const DistilleryGeluGrad = 'DistilleryGeluGrad';
export type DistilleryGeluGrad = typeof DistilleryGeluGrad;
export interface GeluGradInputs<T = TensorInfo> {
  dy: T;
  x: T;
}

/**
 * Which dropout mask: a Philox-4x32-10 mask is a pure function of `(seed, stream, counter)` and the element
 * index, so the backward pass (and a resumed run) regenerates exactly the same mask and nothing is stored.
 * Element `i` is kept iff its 32 random bits are `≥ ⌊rate·2³²⌋`; kept elements are scaled by `1/(1−rate)`.
 */
export interface DropoutAttrs {
  /** Drop probability in [0, 1); 0 is the identity. */
  rate: number;
  /** Philox key: the run's dropout seed (32-bit unsigned). */
  seed: number;
  /** Dropout site within one forward pass (32-bit unsigned). */
  stream: number;
  /** Forward pass number (integer below 2⁵³). */
  counter: number;
}

/** Inverted dropout `x · mask / (1 − rate)`; its gradient is the same kernel applied to `dy` with the same attrs. */
export const DistilleryDropout = 'DistilleryDropout';
export type DistilleryDropout = typeof DistilleryDropout;
export interface DropoutInputs<T = TensorInfo> {
  x: T;
}

/**
 * Post-LN BERT's `LayerNorm(dropout(x) + residual)` in one pass: `[y, mean, rstd]` (mean/rstd `[rows]` of the
 * normalized sum). `rate` 0 gives the plain add + LayerNorm (eval mode). The sum itself is not kept: the
 * gradient kernel recomputes it from `x` and `residual`.
 */
export const DistilleryDropoutAddLayerNorm = 'DistilleryDropoutAddLayerNorm';
export type DistilleryDropoutAddLayerNorm = typeof DistilleryDropoutAddLayerNorm;
export interface DropoutAddLayerNormInputs<T = TensorInfo> {
  /** The sublayer output (dropped out), same shape as `residual`. */
  x: T;
  residual: T;
  gamma: T;
  beta: T;
}
export interface DropoutAddLayerNormAttrs extends DropoutAttrs {
  epsilon: number;
}

/** Gradient of {@link DistilleryDropoutAddLayerNorm}: `[dx, dresidual, dgamma, dbeta]`. */
export const DistilleryDropoutAddLayerNormGrad = 'DistilleryDropoutAddLayerNormGrad';
export type DistilleryDropoutAddLayerNormGrad = typeof DistilleryDropoutAddLayerNormGrad;
export interface DropoutAddLayerNormGradInputs<T = TensorInfo> {
  dy: T;
  x: T;
  residual: T;
  gamma: T;
  mean: T;
  rstd: T;
}

/**
 * A linear layer followed by exact GELU (BERT's intermediate layer): `pre = x·Wᵀ + bias` with `x` `[…, K]` (rank ≥ 2:
 * its leading dimensions are rows, e.g. `[batch, seq, K]`) and `W` `[N, K]` (PyTorch layout), `y = GELU(pre)` of
 * shape `[…, N]`; outputs `[y, pre]` (`pre` for the gradient, which callers build from {@link DistilleryGeluGrad}
 * and matmuls). The bias add and GELU share one pass over the product.
 */
export const DistilleryLinearGelu = 'DistilleryLinearGelu';
export type DistilleryLinearGelu = typeof DistilleryLinearGelu;
export interface LinearGeluInputs<T = TensorInfo> {
  x: T;
  weight: T;
  bias: T;
}

/**
 * {@link DistilleryLinearGelu} **for inference** (no gradient: call it only outside a gradient tape): `[y]` only,
 * the product written into `y` and GELU applied in place, so no `pre` tensor is allocated or written.
 */
export const DistilleryLinearGeluInfer = 'DistilleryLinearGeluInfer';
export type DistilleryLinearGeluInfer = typeof DistilleryLinearGeluInfer;

/**
 * `Σ_t Σ_i x_t[i]²` over any number of float32 tensors, as a float32 scalar (accumulated in double): the global
 * gradient norm's reduction in one kernel instead of a Square and a Sum per parameter and an AddN.
 * Inputs are the tensors in order (as `AddN`'s).
 */
export const DistillerySumSquares = 'DistillerySumSquares';
export type DistillerySumSquares = typeof DistillerySumSquares;

/** Every fused kernel with its inputs, attributes and number of outputs (the contract as a type). */
export interface FusedKernelContracts<T = TensorInfo> {
  [DistilleryAdamW]: { inputs: AdamWInputs<T>; attrs: AdamWAttrs; outputs: 3 };
  [DistilleryAdamWInPlace]: { inputs: T[]; attrs: AdamWInPlaceAttrs; outputs: 1 };
  [DistilleryLayerNorm]: { inputs: LayerNormInputs<T>; attrs: LayerNormAttrs; outputs: 3 };
  [DistilleryLayerNormGrad]: { inputs: LayerNormGradInputs<T>; attrs: Record<string, never>; outputs: 3 };
  [DistilleryGelu]: { inputs: GeluInputs<T>; attrs: Record<string, never>; outputs: 1 };
  [DistilleryGeluGrad]: { inputs: GeluGradInputs<T>; attrs: Record<string, never>; outputs: 1 };
  [DistilleryDropout]: { inputs: DropoutInputs<T>; attrs: DropoutAttrs; outputs: 1 };
  [DistilleryDropoutAddLayerNorm]: {
    inputs: DropoutAddLayerNormInputs<T>;
    attrs: DropoutAddLayerNormAttrs;
    outputs: 3;
  };
  [DistilleryDropoutAddLayerNormGrad]: { inputs: DropoutAddLayerNormGradInputs<T>; attrs: DropoutAttrs; outputs: 4 };
  [DistilleryAttentionSoftmax]: { inputs: AttentionSoftmaxInputs<T>; attrs: AttentionSoftmaxAttrs; outputs: 1 };
  [DistilleryAttentionSoftmaxGrad]: { inputs: AttentionSoftmaxGradInputs<T>; attrs: AttentionSoftmaxAttrs; outputs: 1 };
  [DistilleryLinearGelu]: { inputs: LinearGeluInputs<T>; attrs: Record<string, never>; outputs: 2 };
  [DistilleryLinearGeluInfer]: { inputs: LinearGeluInputs<T>; attrs: Record<string, never>; outputs: 1 };
  [DistilleryAttentionPacked]: { inputs: AttentionPackedInputs<T>; attrs: AttentionTrainAttrs; outputs: 2 };
  [DistilleryAttentionPackedGrad]: { inputs: AttentionPackedGradInputs<T>; attrs: AttentionTrainAttrs; outputs: 1 };
  [DistillerySumSquares]: { inputs: T[]; attrs: Record<string, never>; outputs: 1 };
}

/** Name of a fused kernel. */
export type FusedKernelName = keyof FusedKernelContracts;

/** The fused kernel names by role (for lookups such as "has the backend all of them?"). */
export const FUSED_KERNEL_NAMES = {
  adamW: DistilleryAdamW,
  adamWInPlace: DistilleryAdamWInPlace,
  layerNorm: DistilleryLayerNorm,
  layerNormGrad: DistilleryLayerNormGrad,
  gelu: DistilleryGelu,
  geluGrad: DistilleryGeluGrad,
  dropout: DistilleryDropout,
  dropoutAddLayerNorm: DistilleryDropoutAddLayerNorm,
  dropoutAddLayerNormGrad: DistilleryDropoutAddLayerNormGrad,
  attentionSoftmax: DistilleryAttentionSoftmax,
  attentionSoftmaxGrad: DistilleryAttentionSoftmaxGrad,
  linearGelu: DistilleryLinearGelu,
  linearGeluInfer: DistilleryLinearGeluInfer,
  attentionPacked: DistilleryAttentionPacked,
  attentionPackedGrad: DistilleryAttentionPackedGrad,
  sumSquares: DistillerySumSquares,
} as const satisfies Record<string, FusedKernelName>;

/** Attributes of a kernel as tfjs passes them (`NamedAttrMap`), typed by the contract. */
export type FusedKernelAttrs<K extends FusedKernelName> = FusedKernelContracts[K]['attrs'] & NamedAttrMap;

/** The outputs of a kernel as a tuple of its declared length. */
export type FusedKernelOutputs<K extends FusedKernelName> = FusedKernelContracts[K]['outputs'] extends 4
  ? [Tensor, Tensor, Tensor, Tensor]
  : FusedKernelContracts[K]['outputs'] extends 3
    ? [Tensor, Tensor, Tensor]
    : FusedKernelContracts[K]['outputs'] extends 2
      ? [Tensor, Tensor]
      : [Tensor];

/**
 * Runs a fused kernel on the active backend with inputs and attributes checked against its
 * contract at compile time. Call only where `tf.getKernel(name, tf.getBackend())` exists.
 */
export function runFusedKernel<K extends FusedKernelName>(
  name: K,
  inputs: FusedKernelContracts<Tensor>[K]['inputs'],
  attrs?: FusedKernelContracts[K]['attrs'],
): FusedKernelOutputs<K> {
  const out = engine().runKernel(name, inputs as unknown as NamedTensorMap, (attrs ?? {}) as NamedAttrMap);
  return (Array.isArray(out) ? out : [out]) as FusedKernelOutputs<K>;
}
