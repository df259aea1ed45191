/**
 * The small building blocks of BERT in tfjs-core ops: linear (PyTorch weight layout), LayerNorm,
 * activations and dropout.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HiddenAct } from './bert.config.js';
import type { ParamStore } from './params.js';
import type { DropoutAttrs } from '@distillery/core/kernels';
import {
  FUSED,
  fusedAvailable,
  fusedDropout,
  fusedDropoutAddLayerNorm,
  fusedGelu,
  fusedLayerNorm,
  NO_DROPOUT,
} from './fused-ops.js';
import { fusedLinear, fusedLinearGelu } from './fused-linear.js';

/**
 * `y = x·Wᵀ + b` with `W` stored `[out, in]` (PyTorch layout) under `${name}.weight` / `${name}.bias`.
 * Three paths: wasm's matMul is ~10× slower with a transposed operand, so there we multiply by a transposed copy;
 * the native backend runs one product kernel forward on `x` as it is and three kernels backward (`fused-linear.ts`:
 * a third of the tfjs ops of `tf.fused.matMul` and the reshapes around it); other backends (tfjs-node, cpu) take
 * `Wᵀ` for free and fuse the bias.
 */
export function linear(p: ParamStore, name: string, x: tf.Tensor): tf.Tensor {
  const b = p.get(`${name}.bias`);
  if (x.rank >= 2 && x.dtype === 'float32' && b.rank === 1 && fusedAvailable(FUSED.linearGelu, FUSED.geluGrad))
    return fusedLinear(x, p.get(`${name}.weight`) as tf.Tensor2D, b as tf.Tensor1D);
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
 * `activation(kind, linear(p, name, x))`; for exact GELU on a backend with the fused kernel, the product, bias
 * and GELU run as one kernel forward (`DistilleryLinearGelu`).
 */
export function linearActivation(p: ParamStore, name: string, kind: HiddenAct, x: tf.Tensor): tf.Tensor {
  if (kind === 'gelu' && x.dtype === 'float32' && fusedAvailable(FUSED.linearGelu, FUSED.geluGrad)) {
    const w = p.get(`${name}.weight`) as tf.Tensor2D;
    const b = p.get(`${name}.bias`) as tf.Tensor1D;
    return x.rank >= 2 ? fusedLinearGelu(x, w, b) : tf.reshape(fusedLinearGelu(tf.reshape(x, [1, -1]), w, b), [-1]);
  }
  return activation(kind, linear(p, name, x));
}

/**
 * LayerNorm over the last axis with `${name}.weight` (gamma) and `${name}.bias` (beta), biased variance as PyTorch.
 * One fused kernel each way when the backend registers it (see `fused-ops.ts`), plain tfjs ops otherwise.
 */
export function layerNorm(p: ParamStore, name: string, x: tf.Tensor, eps: number): tf.Tensor {
  const gamma = p.get(`${name}.weight`);
  const beta = p.get(`${name}.bias`);
  if (x.dtype === 'float32' && fusedAvailable(FUSED.layerNorm, FUSED.layerNormGrad))
    return fusedLayerNorm(x, gamma, beta, eps);
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

/**
 * Applies dropout at one place of the network: `(x, rate) => x'`. Functions made by {@link makeDropout} also say
 * how they drop (`mode`) and, on backends with the native Philox kernel, hand out the mask attributes of the next
 * dropout site (`philox`), so fused kernels (dropout + add + LayerNorm) can draw the same masks.
 */
export interface DropoutFn {
  (x: tf.Tensor, rate: number): tf.Tensor;
  /** `off`: identity (eval); `philox`: the backend's counter-based kernel; `tfjs`: `tf.dropout`. */
  mode?: 'off' | 'philox' | 'tfjs';
  /** Mask attributes of the next dropout site (advances the site counter); only in `philox` mode. */
  philox?: (rate: number) => DropoutAttrs;
}

/**
 * Inverted dropout for one forward pass: identity unless `training` (and rate > 0).
 *
 * Where the backend has the fused `DistilleryDropout` kernel (native), masks come from Philox-4x32-10 keyed by
 * `seed` (or a random key when unseeded) with counter (`pass`, site k): a pure function of
 * (seed, pass, site, element), so the same seed and pass give the same masks (resume draws what an uninterrupted run
 * would). Elsewhere `tf.dropout` is used; with a `seed`, the k-th dropout call uses `seed + 1000·pass + k`.
 * @param pass forward-pass number (default 0)
 */
export function makeDropout(training: boolean, seed?: number, pass = 0): DropoutFn {
  if (!training) {
    const off: DropoutFn = (x) => x;
    off.mode = 'off';
    return off;
  }
  let k = 0;
  if (!fusedAvailable(FUSED.dropout, FUSED.dropout)) {
    const base = seed === undefined ? undefined : seed + 1000 * pass;
    const plain: DropoutFn = (x, rate) =>
      rate > 0 ? tf.dropout(x, rate, undefined, base === undefined ? undefined : base + k++) : x;
    plain.mode = 'tfjs';
    return plain;
  }
  // Unseeded: a fresh random key per pass (as tf.dropout without a seed).
  const key = seed === undefined ? Math.floor(Math.random() * 0x100000000) : seed >>> 0;
  const counter = Math.max(0, Math.floor(pass));
  const philox = (rate: number): DropoutAttrs => ({ rate, seed: key, stream: k++, counter });
  const drop: DropoutFn = (x, rate) => {
    if (!(rate > 0)) return x;
    return x.dtype === 'float32' ? fusedDropout(x, philox(rate)) : tf.dropout(x, rate);
  };
  drop.mode = 'philox';
  drop.philox = philox;
  return drop;
}

/**
 * Whether a fused kernel can apply this dropout site itself: no dropout (eval mode, rate 0) or Philox masks, which
 * a kernel draws exactly as `DistilleryDropout` would. A `tfjs`-mode or custom dropout function must run as is.
 */
export function kernelDrawsDropout(drop: DropoutFn, rate: number): boolean {
  return drop.mode === 'off' || drop.mode === 'philox' || !(rate > 0);
}

/**
 * The mask attributes of the next dropout site for a fused kernel (advancing the site counter, as `drop(x, rate)`
 * would), or {@link NO_DROPOUT} in eval mode and at rate 0. Call only where {@link kernelDrawsDropout} holds.
 */
export function siteDropout(drop: DropoutFn, rate: number): DropoutAttrs {
  return drop.mode === 'philox' && rate > 0 && drop.philox ? drop.philox(rate) : NO_DROPOUT;
}

/**
 * Post-LN BERT's `LayerNorm(dropout(x) + residual)` with `${name}.weight` / `${name}.bias`: one fused kernel each
 * way on backends that have it (also in eval mode, as add + LayerNorm), else `layerNorm(add(drop(x), residual))`.
 */
export function dropoutAddLayerNorm(
  p: ParamStore,
  name: string,
  x: tf.Tensor,
  residual: tf.Tensor,
  rate: number,
  eps: number,
  drop: DropoutFn,
): tf.Tensor {
  if (
    kernelDrawsDropout(drop, rate) &&
    x.dtype === 'float32' &&
    residual.dtype === 'float32' &&
    fusedAvailable(FUSED.dropoutAddLayerNorm, FUSED.dropoutAddLayerNormGrad)
  ) {
    const attrs = siteDropout(drop, rate);
    return fusedDropoutAddLayerNorm(x, residual, p.get(`${name}.weight`), p.get(`${name}.bias`), eps, attrs);
  }
  return layerNorm(p, name, tf.add(drop(x, rate), residual), eps);
}

/**
 * Row lookup `table[ids]` whose gradient is a scatter-add into the table. Why: tfjs's own gather
 * gradient needs the UnsortedSegmentSum kernel, which the wasm backend lacks; ScatterNd exists on all backends.
 * The native backend's UnsortedSegmentSum is a native scatter-add (rows added in order, like ScatterNd), where its
 * ScatterNd is the stock wasm kernel: there the gradient takes the former (~0.5 ms per lookup less in the bench step).
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
      const rows = tf.reshape(dy, [-1, d]);
      const dTable =
        tf.getBackend() === 'native'
          ? tf.unsortedSegmentSum(rows, tf.reshape(savedIds, [-1]), t.shape[0])
          : tf.scatterND(tf.reshape(savedIds, [-1, 1]), rows, t.shape);
      // ids get a zero (float) gradient; the engine requires one per input.
      return [dTable, tf.zeros(savedIds.shape)];
    };
    return { value, gradFunc };
  });
  return f(table, ids);
}
