/**
 * Linear layers on backends with the fused kernels (the 'native' backend of `@distillery/backend-native`): the
 * product runs as one `_FusedMatMul` kernel on `x` as it is (`[batch, seq, K]`: the native kernel multiplies its
 * rows as one matrix by the shared weight) and its gradient as two `BatchMatMul` kernels and one `Sum`, called
 * directly.
 *
 * Why not `tf.fused.matMul`: the op lifts both operands to 3-D and back, saves three clones and builds its
 * gradient from `tf.matMul` ops that lift to 3-D again; with the reshapes of `[batch, seq, K]` to 2-D and back,
 * 24 kernel calls per training linear (forward and backward) where 9 do the same work. Each taped tfjs op
 * costs its bookkeeping whatever its size (tape, scopes, kernel lookup: 13.6 µs for a reshape and its gradient
 * alone, ~26 µs inside the bench's training step), and a BERT layer has six linear layers.
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

/** One matrix product by the backend's `BatchMatMul` kernel (with a shared 2-D `b`, `a`'s leading dims are rows). */
function matMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  return tf.engine().runKernel<tf.Tensor>('BatchMatMul', { a, b }, { transposeA, transposeB });
}

/**
 * Gradients of `y = x·Wᵀ + b` for `dy` [..., N], `x` [..., K], `W` [N, K]: `dx = dy·W` [..., K], `dW = dyᵀ·x`
 * over all rows, `db = Σ_rows dy` (the same three products and sum `tf.fused.matMul`'s gradient computes).
 */
export function linearGrads(dy: tf.Tensor, x: tf.Tensor, weight: tf.Tensor): [tf.Tensor, tf.Tensor2D, tf.Tensor1D] {
  const [n, k] = weight.shape as [number, number];
  // Outside a tape (the backward pass) a reshape is a view: dW needs the rows as one matrix.
  const dy2 = dy.rank === 2 ? dy : tf.reshape(dy, [-1, n]);
  const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, k]);
  return [matMul(dy, weight, false, false), matMul(dy2, x2, true, false) as tf.Tensor2D, tf.sum<tf.Tensor1D>(dy2, 0)];
}

/**
 * `x·Wᵀ + b` for `x` [..., K] (rank ≥ 2; its leading dimensions are rows), `W` [N, K] (PyTorch layout), `b` [N]:
 * one `_FusedMatMul` kernel forward (bias in its epilogue) with an output [..., N], {@link linearGrads} backward.
 * Outside a gradient scope only the forward kernel runs.
 */
export function fusedLinear(x: tf.Tensor, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor {
  const forward = (xi: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor =>
    tf
      .engine()
      .runKernel<tf.Tensor>(
        '_FusedMatMul',
        { a: xi, b: w, bias: b },
        { transposeA: false, transposeB: true, activation: 'linear', leakyreluAlpha: 0 },
      );
  if (!recordingGradients()) return forward(x, weight, bias);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, w, b, save] = args as [tf.Tensor, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([xi, w]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => linearGrads(dy, saved[0]!, saved[1]!);
    return { value: forward(xi, w, b), gradFunc };
  });
  return f(x, weight, bias);
}

/**
 * `GELU(x·Wᵀ + b)` for `x` [..., K] (rank ≥ 2), `W` [N, K]: product, bias and GELU in one kernel forward; backward
 * `dpre = GELU'(pre)·dy` (fused kernel), then {@link linearGrads} on `dpre`.
 */
export function fusedLinearGelu(x: tf.Tensor, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor {
  // Outside a gradient scope nothing needs `pre`: the inference kernel writes only y (GELU in place).
  if (!recordingGradients() && fusedAvailable(DistilleryLinearGeluInfer, DistilleryLinearGeluInfer))
    return runFusedKernel(DistilleryLinearGeluInfer, { x, weight, bias })[0];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, w, b, save] = args as [tf.Tensor, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const [y, pre] = runFusedKernel(DistilleryLinearGelu, { x: xi, weight: w, bias: b });
    save([xi, w, pre]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx, sw, sp] = saved as [tf.Tensor, tf.Tensor2D, tf.Tensor];
      const dpre = runFusedKernel(DistilleryGeluGrad, { dy, x: sp })[0];
      return linearGrads(dpre, sx, sw);
    };
    return { value: y, gradFunc };
  });
  return f(x, weight, bias);
}
