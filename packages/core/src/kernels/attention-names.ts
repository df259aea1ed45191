/**
 * The attention kernel contracts (part of `@distillery/core/kernels`, re-exported by `names.ts`): attention on
 * the projections' own layout, `q` `[B, Lq, H·dh]` and `k`/`v` `[B, Lk, H·dh]` (`H` heads of width `dh`, heads
 * side by side in the last axis), with the additive mask `[B, 1, 1, Lk]` and probabilities `[B, H, Lq, Lk]`.
 * Working on that layout in place removes the head transposes (`[B, L, H, dh]` ↔ `[B, H, L, dh]`) of the unfused
 * path. The scores softmax alone (on `[B, H, Lq, Lk]` scores) is here too.
 * @packageDocumentation
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { DropoutAttrs } from './names.js';

/**
 * Attention probabilities `softmax(scale · scores + mask)` over the last axis. `scores` is `[B, H, Lq, Lk]`
 * (the raw `q·kᵀ`), `mask` the additive mask broadcast over heads and queries, `[B, 1, 1, Lk]`.
 */
export const DistilleryAttentionSoftmax = 'DistilleryAttentionSoftmax';
export type DistilleryAttentionSoftmax = typeof DistilleryAttentionSoftmax;
export interface AttentionSoftmaxInputs<T = TensorInfo> {
  scores: T;
  mask: T;
}
export interface AttentionSoftmaxAttrs {
  scale: number;
}

/** Gradient of {@link DistilleryAttentionSoftmax} with respect to `scores`: `scale · p ⊙ (dy − Σ dy ⊙ p)`. */
export const DistilleryAttentionSoftmaxGrad = 'DistilleryAttentionSoftmaxGrad';
export type DistilleryAttentionSoftmaxGrad = typeof DistilleryAttentionSoftmaxGrad;
export interface AttentionSoftmaxGradInputs<T = TensorInfo> {
  dy: T;
  probs: T;
}

/**
 * Multi-head self-attention **for inference** (no dropout, no gradient: call it only outside a gradient tape)
 * on the projections' own layout: `q` `[B, Lq, H·dh]`, `k`/`v` `[B, Lk, H·dh]`, additive `mask` `[B, 1, 1, Lk]`.
 * Outputs `[ctx, probs]`: `probs = softmax(q_h·k_hᵀ·scale + mask)` `[B, H, Lq, Lk]` and `ctx` `[B, Lq, H·dh]`
 * (heads already merged, `ctx[b, i, h·dh + j] = Σ_t probs[b, h, i, t]·v[b, t, h·dh + j]`). Replaces the four
 * head transposes, the scores product, the softmax kernel and the context product of the unfused path.
 */
export const DistilleryAttention = 'DistilleryAttention';
export type DistilleryAttention = typeof DistilleryAttention;
export interface AttentionInputs<T = TensorInfo> {
  q: T;
  k: T;
  v: T;
  mask: T;
}
export interface AttentionAttrs {
  numHeads: number;
  scale: number;
}

/**
 * Training attention, first half: `probs = softmax(q_h·k_hᵀ·scale + mask)` `[B, H, Lq, Lk]` from `q`, `k` on the
 * projections' layout. A separate output (not fused with the context product) because the attention losses read
 * it and send their gradient into it.
 */
export const DistilleryAttentionProbs = 'DistilleryAttentionProbs';
export type DistilleryAttentionProbs = typeof DistilleryAttentionProbs;
export interface AttentionProbsInputs<T = TensorInfo> {
  q: T;
  k: T;
  mask: T;
}

/**
 * Gradient of {@link DistilleryAttentionProbs}: outputs `[dq, dk]` (layouts of `q`, `k`), from `ds = scale ·
 * p ⊙ (dprobs − Σ dprobs ⊙ p)` per row, `dq_h = ds·k_h`, `dk_h = dsᵀ·q_h`.
 */
export const DistilleryAttentionProbsGrad = 'DistilleryAttentionProbsGrad';
export type DistilleryAttentionProbsGrad = typeof DistilleryAttentionProbsGrad;
export interface AttentionProbsGradInputs<T = TensorInfo> {
  dprobs: T;
  probs: T;
  q: T;
  k: T;
}

/**
 * Training attention, second half: `ctx = dropout(probs)·v` with heads merged, `[B, Lq, H·dh]`. The dropout mask
 * is {@link DistilleryDropout}'s for the same attributes over the `probs` tensor (element index = index in
 * `probs`), so the fused path draws exactly the masks of `dropout(probs)` followed by a product.
 */
export const DistilleryAttentionContext = 'DistilleryAttentionContext';
export type DistilleryAttentionContext = typeof DistilleryAttentionContext;
export interface AttentionContextInputs<T = TensorInfo> {
  probs: T;
  v: T;
}

/**
 * Gradient of {@link DistilleryAttentionContext} (mask regenerated from the attributes): outputs `[dprobs, dv]`,
 * `dprobs = dropout(dctx_h·v_hᵀ)`, `dv_h = dropout(probs)ᵀ·dctx_h`.
 */
export const DistilleryAttentionContextGrad = 'DistilleryAttentionContextGrad';
export type DistilleryAttentionContextGrad = typeof DistilleryAttentionContextGrad;
export interface AttentionContextGradInputs<T = TensorInfo> {
  dctx: T;
  probs: T;
  v: T;
}

/**
 * Attributes of the four training attention kernels: the head count and scale (used by the probs kernels) and
 * the dropout of the probabilities (used by the context kernels; `rate` 0: none).
 */
export interface AttentionTrainAttrs extends AttentionAttrs, DropoutAttrs {}
