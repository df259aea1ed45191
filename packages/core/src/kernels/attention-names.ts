/**
 * The attention kernel contracts (part of `@distillery/core/kernels`, re-exported by `names.ts`): self-attention
 * on the packed projection `qkv` `[B, L, 3·H·dh]` (the query, key and value projections side by side, each with
 * `H` heads of width `dh` side by side), with the additive mask `[B, 1, 1, L]` and probabilities `[B, H, L, L]`.
 * Working on that layout in place removes the head transposes (`[B, L, H, dh]` ↔ `[B, H, L, dh]`) of the unfused
 * path and the split of the projection. The scores softmax alone (on `[B, H, Lq, Lk]` scores) is here too.
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

/** Head count and score scale of the attention kernels. */
export interface AttentionAttrs {
  numHeads: number;
  scale: number;
}

/**
 * Attributes of the packed attention kernels: the head count, the score scale and the dropout of the
 * probabilities (`rate` 0: none).
 */
export interface AttentionTrainAttrs extends AttentionAttrs, DropoutAttrs {}

/**
 * Self-attention on a **packed** projection `qkv` `[B, L, 3·H·dh]`: the thirds `[q | k | v]` of one linear layer
 * whose weight is the query, key and value weights stacked (one product instead of three). Outputs `[ctx, probs]`:
 * `probs = softmax(q_h·k_hᵀ·scale + mask)` `[B, H, L, L]` and `ctx = dropout(probs)·v` `[B, L, H·dh]` with heads
 * merged (`ctx[b, i, h·dh + j] = Σ_t dropped[b, h, i, t]·v[b, t, h·dh + j]`). The dropout attributes are those of
 * {@link AttentionTrainAttrs} (`rate` 0: none, as in inference); the mask is the one `DistilleryDropout` would
 * draw over `probs` with them (element index = index in `probs`). Callable under a gradient tape:
 * {@link DistilleryAttentionPackedGrad} is its gradient.
 */
export const DistilleryAttentionPacked = 'DistilleryAttentionPacked';
export type DistilleryAttentionPacked = typeof DistilleryAttentionPacked;
export interface AttentionPackedInputs<T = TensorInfo> {
  qkv: T;
  mask: T;
}

/**
 * Gradient of {@link DistilleryAttentionPacked} with respect to `qkv`, both halves in one pass per (batch, head):
 * `dv = dropout(probs)ᵀ·dctx`, `d(probs) = dropout(dctx·vᵀ) + dprobs` (`dprobs`, optional, is the gradient the
 * attention losses send into `probs`), then `dq`, `dk` through the softmax; written as one `dqkv` `[B, L, 3·H·dh]`
 * (the layout the stacked linear layer's gradient reads). Outputs `[dqkv]`.
 */
export const DistilleryAttentionPackedGrad = 'DistilleryAttentionPackedGrad';
export type DistilleryAttentionPackedGrad = typeof DistilleryAttentionPackedGrad;
export interface AttentionPackedGradInputs<T = TensorInfo> {
  dctx: T;
  /** The gradient into `probs` from elsewhere (attention losses); absent when nothing else reads `probs`. */
  dprobs?: T;
  probs: T;
  qkv: T;
}
