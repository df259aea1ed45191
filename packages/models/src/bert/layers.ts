/**
 * The small building blocks of BERT in tfjs-core ops: linear (PyTorch weight layout), LayerNorm,
 * activations and dropout.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HiddenAct } from './bert.config.js';
import type { ParamStore } from './params.js';
import { FUSED, fusedAvailable, fusedGelu, fusedLayerNorm } from './fused-ops.js';

/**
 * `y = x·Wᵀ + b` with `W` stored `[out, in]` (PyTorch layout) under `${name}.weight` / `${name}.bias`.
 * Why two paths: wasm's matMul is ~10× slower with a transposed operand, so there we multiply by a
 * transposed copy; other backends (native BLAS, tfjs-node, cpu) take `Wᵀ` for free and fuse the bias.
 */
export function linear(p: ParamStore, name: string, x: tf.Tensor): tf.Tensor {
  const b = p.get(`${name}.bias`);
  const inDim = x.shape[x.shape.length - 1]!;
  const lead = x.shape.slice(0, -1);
  const x2 = tf.reshape<tf.Rank.R2>(x, [-1, inDim]);
  let y: tf.Tensor;
  if (tf.getBackend() === 'wasm') {
    y = tf.add(tf.matMul(x2, p.transposed(`${name}.weight`)), b);
  } else {
    y = tf.fused.matMul({ a: x2, b: p.get(`${name}.weight`), transposeB: true, bias: b });
  }
  return lead.length === 1 ? y : tf.reshape(y, [...lead, y.shape[1]!]);
}

/**
 * LayerNorm over the last axis with `${name}.weight` (gamma) and `${name}.bias` (beta), biased variance as PyTorch.
 * One fused kernel each way when the backend registers it (see `fused-ops.ts`), plain tfjs ops otherwise.
 */
export function layerNorm(p: ParamStore, name: string, x: tf.Tensor, eps: number): tf.Tensor {
  const gamma = p.get(`${name}.weight`);
  const beta = p.get(`${name}.bias`);
  if (x.dtype === 'float32' && fusedAvailable(FUSED.layerNorm, FUSED.layerNormGrad)) return fusedLayerNorm(x, gamma, beta, eps);
  const axis = x.shape.length - 1;
  const mean = tf.mean(x, axis, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), axis, true);
  const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, gamma), beta);
}

const SQRT1_2 = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** The feed-forward activation: exact erf GELU (fused when the backend registers it), tanh-approximated GELU (`gelu_new`) or ReLU. */
export function activation(kind: HiddenAct, x: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'gelu':
      if (x.dtype === 'float32' && fusedAvailable(FUSED.gelu, FUSED.geluGrad)) return fusedGelu(x);
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, SQRT1_2))));
    case 'gelu_new': {
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), SQRT_2_OVER_PI);
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
    case 'relu':
      return tf.relu(x);
  }
}

/** Applies dropout at one place of the network: `(x, rate) => x'`. */
export type DropoutFn = (x: tf.Tensor, rate: number) => tf.Tensor;

/**
 * Inverted dropout for one forward pass: identity unless `training` (and rate > 0). With a `seed`, the
 * k-th dropout call of the pass uses seed + k, so a seeded run draws the same masks every time.
 */
export function makeDropout(training: boolean, seed?: number): DropoutFn {
  if (!training) return (x) => x;
  let k = 0;
  return (x, rate) => (rate > 0 ? tf.dropout(x, rate, undefined, seed === undefined ? undefined : seed + k++) : x);
}

/**
 * Row lookup `table[ids]` whose gradient is a scatter-add into the table. Why: tfjs's own gather
 * gradient needs the UnsortedSegmentSum kernel, which the wasm backend lacks; ScatterNd exists on all backends.
 */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [t, idx, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    // The ids must be saved: tensors merely captured by the closure are freed before backprop runs.
    save([idx]);
    const value = tf.gather(t, idx);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const d = t.shape[1]!;
      const savedIds = saved[0]!;
      // ids get a zero (float) gradient; the engine requires one per input.
      return [tf.scatterND(tf.reshape(savedIds, [-1, 1]), tf.reshape(dy, [-1, d]), t.shape), tf.zeros(savedIds.shape)];
    };
    return { value, gradFunc };
  });
  return f(table, ids);
}
