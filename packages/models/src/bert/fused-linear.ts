/**
 * Linear layers on backends with the fused kernels (the 'native' backend of `@distillery/backend-native`): the
 * product runs as one `_FusedMatMul` kernel on the 2-D operands and its gradient as two `BatchMatMul` kernels and
 * one `Sum`, called directly.
 *
 * Why not `tf.fused.matMul`: the op lifts both operands to 3-D and back, saves three clones and builds its
 * gradient from `tf.matMul` ops that lift to 3-D again, about 19 kernel calls per training linear (forward and
 * backward) where 8 do the same work. In a training step each tfjs op costs ~10–25 µs of bookkeeping whatever
 * its size (tape, scopes, kernel lookup), and a BERT layer has six linear layers.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  DistilleryGeluGrad,
  DistilleryLinearGelu,
  DistilleryLinearGeluInfer,
  runFusedKernel,
} from '@distillery/core/kernels';
import { fusedAvailable, recordingGradients } from './fused-ops.js';

/** One matrix product of 2-D operands through the backend's `BatchMatMul` kernel (no 3-D reshapes). */
function matMul2d(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  return tf.engine().runKernel<tf.Tensor2D>('BatchMatMul', { a, b }, { transposeA, transposeB });
}

/**
 * Gradients of `y = x2·Wᵀ + b` for `dy` [M, N], `x2` [M, K], `W` [N, K]: `dx = dy·W`, `dW = dyᵀ·x2`, `db = Σ_rows dy`
 * (the same three products and sum `tf.fused.matMul`'s gradient computes).
 */
export function linearGrads(dy: tf.Tensor, x2: tf.Tensor, weight: tf.Tensor): [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D] {
  return [matMul2d(dy, weight, false, false), matMul2d(dy, x2, true, false), tf.sum<tf.Tensor1D>(dy, 0)];
}

/**
 * `x2·Wᵀ + b` for `x2` [M, K], `W` [N, K] (PyTorch layout), `b` [N]: one `_FusedMatMul` kernel forward (bias in its
 * epilogue), {@link linearGrads} backward. Outside a gradient scope only the forward kernel runs.
 */
export function fusedLinear(x2: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const forward = (xi: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D =>
    tf
      .engine()
      .runKernel<tf.Tensor2D>(
        '_FusedMatMul',
        { a: xi, b: w, bias: b },
        { transposeA: false, transposeB: true, activation: 'linear', leakyreluAlpha: 0 },
      );
  if (!recordingGradients()) return forward(x2, weight, bias);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([xi, w]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => linearGrads(dy, saved[0]!, saved[1]!);
    return { value: forward(xi, w, b), gradFunc };
  });
  return f(x2, weight, bias);
}

/**
 * `GELU(x2·Wᵀ + b)` for `x2` [M, K], `W` [N, K]: product, bias and GELU in one kernel forward; backward
 * `dpre = GELU'(pre)·dy` (fused kernel), then {@link linearGrads} on `dpre`.
 */
export function fusedLinearGelu(x2: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  // Outside a gradient scope nothing needs `pre`: the inference kernel writes only y (GELU in place).
  if (!recordingGradients() && fusedAvailable(DistilleryLinearGeluInfer, DistilleryLinearGeluInfer))
    return runFusedKernel(DistilleryLinearGeluInfer, { x: x2, weight, bias })[0] as tf.Tensor2D;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const [y, pre] = runFusedKernel(DistilleryLinearGelu, { x: xi, weight: w, bias: b });
    save([xi, w, pre]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sw, sp] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const dpre = runFusedKernel(DistilleryGeluGrad, { dy, x: sp })[0];
      return linearGrads(dpre, sx, sw);
    };
    return { value: y as tf.Tensor2D, gradFunc };
  });
  return f(x2, weight, bias);
}
