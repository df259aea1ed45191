/**
 * LayerNorm and exact GELU through fused kernels when the active backend registers them (the 'native' backend of
 * `@distillery/backend-native` does: `DistilleryLayerNorm`/`DistilleryLayerNormGrad`, `DistilleryGelu`/
 * `DistilleryGeluGrad`, whose names, inputs and attributes are typed in `@distillery/core/kernels`). Each replaces a chain of 6-10 tfjs ops forward and about as many backward by one
 * kernel each way; `tf.customGrad` wires the backward kernel into autograd. Other backends never call these:
 * {@link fusedAvailable} is false there and `layers.ts` keeps its plain tfjs ops.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  DistilleryAttention,
  DistilleryAttentionContext,
  DistilleryAttentionContextGrad,
  DistilleryAttentionProbs,
  DistilleryAttentionProbsGrad,
  DistilleryAttentionSoftmax,
  DistilleryAttentionSoftmaxGrad,
  DistilleryDropout,
  DistilleryDropoutAddLayerNorm,
  DistilleryDropoutAddLayerNormGrad,
  DistilleryGelu,
  DistilleryGeluGrad,
  DistilleryLinearGelu,
  DistilleryLinearGeluInfer,
  DistilleryLayerNorm,
  DistilleryLayerNormGrad,
  runFusedKernel,
  type AttentionTrainAttrs,
  type DropoutAttrs,
  type FusedKernelName,
} from '@distillery/core/kernels';

/** The fused kernels this file uses (contracts in `@distillery/core/kernels`; registered by `@distillery/backend-native`). */
export const FUSED = {
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
  attention: DistilleryAttention,
  linearGeluInfer: DistilleryLinearGeluInfer,
  attentionProbs: DistilleryAttentionProbs,
  attentionProbsGrad: DistilleryAttentionProbsGrad,
  attentionContext: DistilleryAttentionContext,
  attentionContextGrad: DistilleryAttentionContextGrad,
} as const;

/** Whether the active backend has the forward and backward kernels of a fused op. */
export function fusedAvailable(forward: FusedKernelName, backward: FusedKernelName): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(forward, backend) !== undefined && tf.getKernel(backward, backend) !== undefined;
}

/**
 * Whether tfjs is recording a gradient tape right now (inside `tf.grad`/`variableGrads`). Forward-only fused
 * kernels (`DistilleryAttention`) are used only when it is not: nothing could differentiate them.
 */
export function recordingGradients(): boolean {
  // tfjs-core's own test (Engine.isTapeOn, not in its typings): a gradient scope is open.
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
}

/** LayerNorm over the last axis (biased variance, `eps` inside the square root) by the fused kernels. */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, mean, rstd] = runFusedKernel(DistilleryLayerNorm, { x: xi, gamma: g, beta: b }, { epsilon: eps });
    // Saved (kept) for the backward pass; everything else made here is freed by customGrad's scope.
    save([xi, g, mean, rstd]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sg, sm, sr] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      return runFusedKernel(DistilleryLayerNormGrad, { dy, x: sx, gamma: sg, mean: sm, rstd: sr });
    };
    return { value: y, gradFunc };
  });
  return f(x, gamma, beta);
}

/** Exact GELU `x/2·(1 + erf(x/√2))` by the fused kernels. */
export function fusedGelu(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([xi]);
    const [value] = runFusedKernel(DistilleryGelu, { x: xi });
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor =>
      runFusedKernel(DistilleryGeluGrad, { dy, x: saved[0]! })[0];
    return { value, gradFunc };
  });
  return f(x);
}

/**
 * Inverted dropout with the backend's Philox mask (mask generation and apply in one kernel). The gradient is the
 * same kernel on `dy` with the same attrs: the mask is regenerated, never stored.
 */
export function fusedDropout(x: tf.Tensor, attrs: DropoutAttrs): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as tf.Tensor;
    const [value] = runFusedKernel(DistilleryDropout, { x: xi }, attrs);
    const gradFunc = (dy: tf.Tensor): tf.Tensor => runFusedKernel(DistilleryDropout, { x: dy }, attrs)[0];
    return { value, gradFunc };
  });
  return f(x);
}

/** `LayerNorm(dropout(x) + residual)` in one kernel each way (`attrs.rate` 0: add + LayerNorm). */
export function fusedDropoutAddLayerNorm(
  x: tf.Tensor,
  residual: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  attrs: DropoutAttrs,
): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, ri, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, mean, rstd] = runFusedKernel(
      DistilleryDropoutAddLayerNorm,
      { x: xi, residual: ri, gamma: g, beta: b },
      { ...attrs, epsilon: eps },
    );
    // The sum dropout(x) + residual is not kept: the gradient kernel recomputes it from x and residual.
    save([xi, ri, g, mean, rstd]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sr, sg, sm, ss] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      return runFusedKernel(
        DistilleryDropoutAddLayerNormGrad,
        { dy, x: sx, residual: sr, gamma: sg, mean: sm, rstd: ss },
        attrs,
      );
    };
    return { value: y, gradFunc };
  });
  return f(x, residual, gamma, beta);
}

/**
 * Attention probabilities `softmax(scale · scores + mask)` (`scores` the raw `q·kᵀ` [B, H, Lq, Lk], `mask`
 * the additive [B, 1, 1, Lk] mask) in one kernel each way. The mask gets a zero gradient (it is data).
 */
export function fusedAttentionSoftmax(scores: tf.Tensor, mask: tf.Tensor, scale: number): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [s, m, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [probs] = runFusedKernel(DistilleryAttentionSoftmax, { scores: s, mask: m }, { scale });
    save([probs]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => [
      runFusedKernel(DistilleryAttentionSoftmaxGrad, { dy, probs: saved[0]! }, { scale })[0],
      tf.zeros(m.shape),
    ];
    return { value: probs, gradFunc };
  });
  return f(scores, mask);
}

/** Dropout attributes that mean "no dropout". */
export const NO_DROPOUT: DropoutAttrs = { rate: 0, seed: 0, stream: 0, counter: 0 };

/**
 * Training attention's first half on the projections' layout: `probs = softmax(q_h·k_hᵀ·scale + mask)`
 * `[B, H, Lq, Lk]` from `q` `[B, Lq, H·dh]`, `k` `[B, Lk, H·dh]` and the additive `[B, 1, 1, Lk]` mask (which gets a
 * zero gradient: it is data). No head transposes either way.
 */
export function fusedAttentionProbs(
  q: tf.Tensor,
  k: tf.Tensor,
  mask: tf.Tensor,
  numHeads: number,
  scale: number,
): tf.Tensor4D {
  const attrs: AttentionTrainAttrs = { numHeads, scale, ...NO_DROPOUT };
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [qi, ki, m, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [probs] = runFusedKernel(DistilleryAttentionProbs, { q: qi, k: ki, mask: m }, attrs);
    save([qi, ki, probs]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sq, sk, sp] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const [dq, dk] = runFusedKernel(DistilleryAttentionProbsGrad, { dprobs: dy, probs: sp, q: sq, k: sk }, attrs);
      return [dq, dk, tf.zeros(m.shape)];
    };
    return { value: probs, gradFunc };
  });
  return f(q, k, mask) as tf.Tensor4D;
}

/**
 * Training attention's second half: `ctx = dropout(probs)·v` with heads merged, `[B, Lq, H·dh]`, for `v`
 * `[B, Lk, H·dh]`. `dropout` is the Philox mask of the site (as `DistilleryDropout` would draw it over `probs`);
 * the backward pass regenerates it.
 */
export function fusedAttentionContext(
  probs: tf.Tensor,
  v: tf.Tensor,
  numHeads: number,
  dropout: DropoutAttrs,
): tf.Tensor3D {
  const attrs: AttentionTrainAttrs = { numHeads, scale: 1, ...dropout };
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [p, vi, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [ctx] = runFusedKernel(DistilleryAttentionContext, { probs: p, v: vi }, attrs);
    save([p, vi]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sp, sv] = saved as [tf.Tensor, tf.Tensor];
      return runFusedKernel(DistilleryAttentionContextGrad, { dctx: dy, probs: sp, v: sv }, attrs);
    };
    return { value: ctx, gradFunc };
  });
  return f(probs, v) as tf.Tensor3D;
}
