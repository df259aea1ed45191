/**
 * The small building blocks of BERT in tfjs-core ops: linear (PyTorch weight layout), LayerNorm,
 * activations and dropout.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HiddenAct } from './bert.config.js';
import type { ParamStore } from './params.js';

/** `y = x·Wᵀ + b` with `W` stored `[out, in]` (PyTorch layout) under `${name}.weight` / `${name}.bias`. */
export function linear(p: ParamStore, name: string, x: tf.Tensor): tf.Tensor {
  const w = p.get(`${name}.weight`);
  const b = p.get(`${name}.bias`);
  const inDim = x.shape[x.shape.length - 1]!;
  const lead = x.shape.slice(0, -1);
  // matMul with transposeB reads W as [in, out] without materialising a transposed copy.
  const y = tf.add(tf.matMul(tf.reshape(x, [-1, inDim]), w as tf.Tensor2D, false, true), b);
  return lead.length === 1 ? y : tf.reshape(y, [...lead, w.shape[0]!]);
}

/** LayerNorm over the last axis with `${name}.weight` (gamma) and `${name}.bias` (beta), biased variance as PyTorch. */
export function layerNorm(p: ParamStore, name: string, x: tf.Tensor, eps: number): tf.Tensor {
  const axis = x.shape.length - 1;
  const mean = tf.mean(x, axis, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), axis, true);
  const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, p.get(`${name}.weight`)), p.get(`${name}.bias`));
}

const SQRT1_2 = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** The feed-forward activation: exact erf GELU, tanh-approximated GELU (`gelu_new`) or ReLU. */
export function activation(kind: HiddenAct, x: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, SQRT1_2))));
    case 'gelu_new': {
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), SQRT_2_OVER_PI);
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
    case 'relu':
      return tf.relu(x);
  }
}

/** Inverted dropout, only when training and rate > 0 (identity otherwise). */
export function dropout(x: tf.Tensor, rate: number, training: boolean): tf.Tensor {
  return training && rate > 0 ? tf.dropout(x, rate) : x;
}
