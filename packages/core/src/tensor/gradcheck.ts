import * as tf from '@tensorflow/tfjs-core';

/** Result of {@link checkGradient}. */
export interface GradientCheck {
  /** d f / d x from `tf.grad`, flattened. */
  readonly analytic: number[];
  /** Central differences (f(x + h·e_i) − f(x − h·e_i)) / 2h, flattened. */
  readonly numeric: number[];
  /** max_i |analytic_i − numeric_i| / max(1, |numeric_i|). */
  readonly maxError: number;
}

/**
 * Compares `tf.grad(f)` with central finite differences on a small tensor (for plugin tests:
 * a loss should have the gradient of the formula it documents). Works in float32, so use a
 * step `h` around 1e-2 and a tolerance around 1e-2. Leaves no tensors behind.
 */
export function checkGradient(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, h = 1e-2): GradientCheck {
  const analytic = tf.tidy(() => Array.from(tf.grad(f)(x).dataSync()));
  const base = Float64Array.from(x.dataSync());
  const numeric: number[] = [];
  for (let i = 0; i < base.length; i++) {
    const at = (d: number): number =>
      tf.tidy(() => {
        const v = Float32Array.from(base);
        v[i] = base[i]! + d;
        return f(tf.tensor(v, x.shape, 'float32')).dataSync()[0]!;
      });
    numeric.push((at(h) - at(-h)) / (2 * h));
  }
  let maxError = 0;
  for (let i = 0; i < numeric.length; i++) {
    maxError = Math.max(maxError, Math.abs(analytic[i]! - numeric[i]!) / Math.max(1, Math.abs(numeric[i]!)));
  }
  return { analytic, numeric, maxError };
}
