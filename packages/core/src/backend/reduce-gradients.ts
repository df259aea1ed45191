/**
 * The gradients of `Sum` and `Mean` without an array built in JavaScript.
 *
 * tfjs-core's own (`gradients/Sum_grad.ts`, `Mean_grad.ts`) broadcast `dy` to `x`'s shape by multiplying it with
 * `ones(x.shape)`, and `ones` fills a JavaScript typed array of that size, which the backend then copies in. A loss
 * summed over a hidden state does this in every backward pass: in the bench step, a 3 MB array for the hidden MSE
 * and 2.6 MB for the attention MSE, filled, copied and left to the garbage collector (`makeOnesTypedArray` alone
 * took ~3 ms per step in a `--cpu-prof` profile). These configs build the ones on the backend (`tf.fill`, the
 * `Fill` kernel) and then run the same ops as tfjs's, so the gradients are the same numbers.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';

/**
 * `dy` broadcast to `x`'s shape over the reduced axes — `reshape(dy)` times ones filled on the backend, the ops
 * of tfjs's gradients — and how many elements of `x` each element of `dy` reduced.
 */
function broadcastDy(dy: tf.Tensor, x: tf.Tensor, attrs: NamedAttrMap): { dx: tf.Tensor; count: number } {
  // A null axis (reduce over all) is how tfjs stores `tf.sum(x)`: parseAxisParam takes it to every axis.
  const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
  const shape = x.shape.slice();
  for (const a of axes) shape[a] = 1;
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  return { dx: tf.mul(tf.reshape(dy, shape), tf.fill(x.shape, 1, 'float32')), count };
}

/** The gradient config of a reduction whose dx is `broadcastDy`'s, divided by the count when `mean`. */
function reduceGradConfig(kernelName: string, mean: boolean): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => ({
      x: () => {
        const b = broadcastDy(dy as tf.Tensor, saved[0]!, attrs);
        return mean ? tf.div(b.dx, b.count) : b.dx;
      },
    }),
  };
}

/** `Sum`: dx = dy broadcast over the summed axes (tfjs: `mul(reshape(dy), ones(x.shape))`). */
export const sumGradConfig: GradConfig = reduceGradConfig(tf.Sum, false);

/** `Mean`: dx = dy broadcast over the averaged axes, divided by their size (tfjs: `div(mul(…, ones), n)`). */
export const meanGradConfig: GradConfig = reduceGradConfig(tf.Mean, true);

/**
 * Put {@link sumGradConfig} and {@link meanGradConfig} in place of tfjs-core's (for every backend: the gradient
 * registry is global). Idempotent. Called by `registerAllGradients` after tfjs's own gradients are in.
 */
export function registerReduceGradients(): void {
  for (const g of [sumGradConfig, meanGradConfig]) {
    if (tf.getGradient(g.kernelName) !== g) tf.registerGradient(g);
  }
}
