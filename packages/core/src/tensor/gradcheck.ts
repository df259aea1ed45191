import * as tf from '@tensorflow/tfjs-core';

/**
 * A float64 reference of a scalar function: the documented formula written in plain JS numbers,
 * taking the input's values flattened in row-major order (shape as the checked tensor's).
 */
export type Reference64 = (x: Float64Array) => number;

/** Options of {@link checkGradient}. */
export interface GradientCheckOptions {
  /**
   * Central-difference step on the float64 reference, relative to max(1, |x_i|).
   * @default 1e-6
   */
  readonly h?: number;
}

/** Result of {@link checkGradient}. */
export interface GradientCheck {
  /** d f / d x from `tf.grad` (float32), flattened. */
  readonly analytic: number[];
  /** d ref / d x by float64 central differences of the reference, flattened. */
  readonly reference: number[];
  /** max_i |analytic_i − reference_i| / max_j |reference_j|: the error relative to the gradient's largest entry. */
  readonly maxError: number;
  /** |f(x) − ref(x)| / max(|ref(x)|, 1e-12): proves the reference is the same function as `f`. */
  readonly valueError: number;
}

/**
 * Relative tolerance of {@link checkGradient} (float32 gradients against a float64 reference
 * measure around 1e-6–1e-5; a gradient off by a factor, a sign or one term fails by orders more).
 */
export const GRADIENT_TOLERANCE = 1e-4;

/**
 * Compares `tf.grad(f)` (float32, the code under test) with the gradient of an independent float64
 * reference `ref` (plain JS, central differences with a step of ~1e-6, whose error is ~1e-9 —
 * far below float32's). Both the gradient and the value must agree: assert
 * `maxError < GRADIENT_TOLERANCE` and `valueError < GRADIENT_TOLERANCE`.
 *
 * The error is relative to the largest gradient entry, so it is scale-free: a gradient scaled by
 * ½ gives 0.5 whatever its magnitude (a `max(1, |g|)` denominator would hide that for small g).
 * Check points must sit away from kinks (relu, thresholds). Leaves no tensors behind.
 */
export function checkGradient(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  ref: Reference64,
  opts: GradientCheckOptions = {},
): GradientCheck {
  const h = opts.h ?? 1e-6;
  const analytic = tf.tidy(() => Array.from(tf.grad(f)(x).dataSync()));
  const value = tf.tidy(() => f(x).dataSync()[0] ?? NaN);
  const base = Float64Array.from(x.dataSync());
  const reference: number[] = [];
  for (let i = 0; i < base.length; i++) {
    const xi = base[i] ?? 0;
    const step = h * Math.max(1, Math.abs(xi));
    const v = Float64Array.from(base);
    v[i] = xi + step;
    const up = ref(v);
    v[i] = xi - step;
    const down = ref(v);
    reference.push((up - down) / (2 * step));
  }
  const scale = reference.reduce((m, r) => Math.max(m, Math.abs(r)), 0);
  let maxError = 0;
  for (let i = 0; i < reference.length; i++) {
    const diff = Math.abs((analytic[i] ?? NaN) - (reference[i] ?? NaN));
    // An all-zero reference gradient: the analytic one must be zero too (absolute check).
    maxError = Math.max(maxError, scale > 0 ? diff / scale : diff);
    if (Number.isNaN(diff)) maxError = Infinity;
  }
  const r0 = ref(base);
  const valueError = Math.abs(value - r0) / Math.max(Math.abs(r0), 1e-12);
  return { analytic, reference, maxError, valueError: Number.isNaN(valueError) ? Infinity : valueError };
}
