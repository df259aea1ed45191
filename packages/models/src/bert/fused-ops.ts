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
  DistilleryAttentionPacked,
  DistilleryAttentionPackedGrad,
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
  linearGeluInfer: DistilleryLinearGeluInfer,
  attentionPacked: DistilleryAttentionPacked,
  attentionPackedGrad: DistilleryAttentionPackedGrad,
} as const;

/** Whether the active backend has the forward and backward kernels of a fused op. */
export function fusedAvailable(forward: FusedKernelName, backward: FusedKernelName): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(forward, backend) !== undefined && tf.getKernel(backward, backend) !== undefined;
}

/**
 * Whether tfjs is recording a gradient tape right now (inside `tf.grad`/`variableGrads`). Forward-only fused
 * kernels (`DistilleryLinearGeluInfer`) are used only when it is not: nothing could differentiate them.
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

let packedGradRegistered = false;

/**
 * The gradient of `DistilleryAttentionPacked` as a registered kernel gradient, for the case where its `probs`
 * output is differentiated too (an attention loss reads it): `tf.customGrad` ops have a single output.
 */
function registerPackedGradient(): void {
  if (packedGradRegistered) return;
  packedGradRegistered = true;
  tf.registerGradient({
    kernelName: DistilleryAttentionPacked,
    inputsToSave: ['qkv', 'mask'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const [dctx, dprobs] = dys as tf.Tensor[];
      const [qkv, mask, probs] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const a = attrs as unknown as AttentionTrainAttrs;
      return {
        qkv: () => runFusedKernel(DistilleryAttentionPackedGrad, { dctx: dctx!, dprobs, probs, qkv }, a)[0],
        mask: () => tf.zeros(mask.shape),
      };
    },
  });
}

/**
 * Self-attention on a packed projection `qkv` `[B, L, 3·H·dh]` (the query, key and value layers as one linear
 * layer): `ctx` `[B, L, H·dh]` with heads merged and, when asked for, `probs` `[B, H, L, L]`. One kernel each way;
 * the mask gets a zero gradient (it is data). Under a gradient tape without `withProbs` the op's only output is
 * `ctx` (probs is kept for the backward pass, and no zero gradient is made for it); with `withProbs` the kernel
 * runs with its registered gradient, which adds the gradient the attention losses send into `probs`.
 */
export function fusedAttentionPacked(
  qkv: tf.Tensor,
  mask: tf.Tensor,
  numHeads: number,
  scale: number,
  dropout: DropoutAttrs,
  withProbs: boolean,
): { ctx: tf.Tensor3D; probs?: tf.Tensor4D } {
  const attrs: AttentionTrainAttrs = { numHeads, scale, ...dropout };
  if (withProbs || !recordingGradients()) {
    if (withProbs) registerPackedGradient();
    const [ctx, probs] = runFusedKernel(DistilleryAttentionPacked, { qkv, mask }, attrs);
    return { ctx: ctx as tf.Tensor3D, probs: withProbs ? (probs as tf.Tensor4D) : undefined };
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, m, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [ctx, probs] = runFusedKernel(DistilleryAttentionPacked, { qkv: x, mask: m }, attrs);
    save([x, probs]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sp] = saved as [tf.Tensor, tf.Tensor];
      return [
        runFusedKernel(DistilleryAttentionPackedGrad, { dctx: dy, probs: sp, qkv: sx }, attrs)[0],
        tf.zeros(m.shape),
      ];
    };
    return { value: ctx, gradFunc };
  });
  return { ctx: f(qkv, mask) as tf.Tensor3D };
}
