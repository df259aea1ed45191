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
  DistilleryGelu,
  DistilleryGeluGrad,
  DistilleryLayerNorm,
  DistilleryLayerNormGrad,
  runFusedKernel,
  type FusedKernelName,
} from '@distillery/core/kernels';

/** The fused kernels this file uses (contracts in `@distillery/core/kernels`; registered by `@distillery/backend-native`). */
export const FUSED = {
  layerNorm: DistilleryLayerNorm,
  layerNormGrad: DistilleryLayerNormGrad,
  gelu: DistilleryGelu,
  geluGrad: DistilleryGeluGrad,
} as const;

/** Whether the active backend has the forward and backward kernels of a fused op. */
export function fusedAvailable(forward: FusedKernelName, backward: FusedKernelName): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(forward, backend) !== undefined && tf.getKernel(backward, backend) !== undefined;
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
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => runFusedKernel(DistilleryGeluGrad, { dy, x: saved[0]! })[0];
    return { value, gradFunc };
  });
  return f(x);
}
