/**
 * BERT embeddings and post-LN encoder layers, exactly as Hugging Face `BertModel` computes them.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from './bert.config.js';
import type { ParamStore } from './params.js';
import {
  dropoutAddLayerNorm,
  embeddingLookup,
  kernelDrawsDropout,
  layerNorm,
  linear,
  linearActivation,
  siteDropout,
  type DropoutFn,
} from './layers.js';
import { FUSED, fusedAttentionPacked, fusedAttentionSoftmax, fusedAvailable } from './fused-ops.js';
import { fusedLinear } from './fused-linear.js';

/**
 * Embeddings: word + absolute position + token type, LayerNorm, dropout. Returns [B, L, D].
 * Positions are 0..L-1 (BERT) unless `positionIds` [B, L] is given (RoBERTa's padding-offset positions).
 */
export function embeddings(
  p: ParamStore,
  c: BertConfig,
  inputIds: tf.Tensor2D,
  tokenTypeIds: tf.Tensor2D,
  drop: DropoutFn,
  prefix = 'bert',
  positionIds?: tf.Tensor2D,
): tf.Tensor3D {
  const [, seqLen] = inputIds.shape;
  const pre = `${prefix}.embeddings`;
  const words = embeddingLookup(p.get(`${pre}.word_embeddings.weight`), inputIds);
  const types = embeddingLookup(p.get(`${pre}.token_type_embeddings.weight`), tokenTypeIds);
  const positions = embeddingLookup(
    p.get(`${pre}.position_embeddings.weight`),
    positionIds ?? tf.range(0, seqLen, 1, 'int32'),
  );
  // Same summation order as HF: (words + types) + positions.
  const sum = tf.add(tf.add(words, types), positions);
  return drop(layerNorm(p, `${pre}.LayerNorm`, sum, c.layerNormEps), c.hiddenDropoutProb) as tf.Tensor3D;
}

/** What one layer returns besides its output (only what was asked for). */
export interface LayerExtras {
  /** Softmax probabilities [B, H, L, L], before dropout. */
  probs?: tf.Tensor4D;
  /** Scaled scores with the additive -10000 mask, before softmax [B, H, L, L]. */
  scores?: tf.Tensor4D;
}

/**
 * One encoder layer: `a = LN(x + Wo·Attn(x))`, `y = LN(a + W2·act(W1·a))`.
 * `maskAdd` is `(1 - mask)·(-10000)` shaped [B, 1, 1, L].
 */
export function encoderLayer(
  p: ParamStore,
  c: BertConfig,
  i: number,
  x: tf.Tensor3D,
  maskAdd: tf.Tensor,
  drop: DropoutFn,
  want: { probs: boolean; scores: boolean },
  prefix = 'bert',
): { out: tf.Tensor3D; extras: LayerExtras } {
  const [b, l, d] = x.shape;
  const h = c.numAttentionHeads;
  const dh = d / h;
  const pre = `${prefix}.encoder.layer.${i}`;
  const heads = (t: tf.Tensor) => tf.transpose<tf.Tensor4D>(tf.reshape(t, [b, l, h, dh]), [0, 2, 1, 3]);
  const self = `${pre}.attention.self`;
  let probs: tf.Tensor4D | undefined;
  let scores: tf.Tensor4D | undefined;
  let merged: tf.Tensor;
  const scale = 1 / Math.sqrt(dh);
  const maskFits =
    x.dtype === 'float32' &&
    maskAdd.dtype === 'float32' &&
    maskAdd.shape.length === 4 &&
    maskAdd.shape[0] === b &&
    maskAdd.shape[1] === 1 &&
    maskAdd.shape[2] === 1 &&
    maskAdd.shape[3] === l;
  if (
    maskFits &&
    !want.scores &&
    kernelDrawsDropout(drop, c.attentionProbsDropoutProb) &&
    fusedAvailable(FUSED.attentionPacked, FUSED.attentionPackedGrad) &&
    fusedAvailable(FUSED.linearGelu, FUSED.geluGrad)
  ) {
    // Native: the query, key and value layers as one linear layer (one product each way instead of three, and
    // no sum of three input gradients), and the attention on its packed output, one kernel each way.
    const qkvNames = ['query', 'key', 'value'].map((n) => `${self}.${n}`);
    const qkv = fusedLinear(
      x,
      p.stacked(qkvNames.map((n) => `${n}.weight`)) as tf.Tensor2D,
      p.stacked(qkvNames.map((n) => `${n}.bias`)) as tf.Tensor1D,
    );
    const dropout = siteDropout(drop, c.attentionProbsDropoutProb);
    const r = fusedAttentionPacked(qkv, maskAdd, h, scale, dropout, want.probs);
    merged = r.ctx;
    probs = r.probs;
  } else {
    // Elsewhere (or with a dropout function a kernel cannot draw, or when the scores are wanted): three linear
    // layers, the heads transposed to [B, H, L, dh], and the softmax by its kernel where the backend has one.
    const q3 = linear(p, `${self}.query`, x);
    const k3 = linear(p, `${self}.key`, x);
    const v3 = linear(p, `${self}.value`, x);
    const q = heads(q3);
    const k = heads(k3);
    const v = heads(v3);
    if (maskFits && !want.scores && fusedAvailable(FUSED.attentionSoftmax, FUSED.attentionSoftmaxGrad)) {
      // Native: q·kᵀ with transposeB (free in BLAS), then scale + mask + softmax in one kernel each way.
      probs = fusedAttentionSoftmax(tf.matMul(q, k, false, true), maskAdd, scale) as tf.Tensor4D;
    } else {
      // Explicit kᵀ: batched matMul with transposeB is slow on the wasm backend.
      const kT = tf.transpose(k, [0, 1, 3, 2]);
      scores = tf.add<tf.Tensor4D>(tf.div(tf.matMul(q, kT), Math.sqrt(dh)), maskAdd);
      probs = tf.softmax<tf.Tensor4D>(scores);
    }
    const ctx = tf.matMul(drop(probs, c.attentionProbsDropoutProb), v);
    merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b, l, d]);
  }
  // Post-LN residual blocks: LN(dropout(sublayer) + input), fused into one kernel where the backend has it.
  const attnOut = linear(p, `${pre}.attention.output.dense`, merged);
  const a = dropoutAddLayerNorm(
    p,
    `${pre}.attention.output.LayerNorm`,
    attnOut,
    x,
    c.hiddenDropoutProb,
    c.layerNormEps,
    drop,
  );
  const inter = linearActivation(p, `${pre}.intermediate.dense`, c.hiddenAct, a);
  const ffn = linear(p, `${pre}.output.dense`, inter);
  const out = dropoutAddLayerNorm(
    p,
    `${pre}.output.LayerNorm`,
    ffn,
    a,
    c.hiddenDropoutProb,
    c.layerNormEps,
    drop,
  ) as tf.Tensor3D;
  const extras: LayerExtras = {};
  if (want.probs && probs) extras.probs = probs;
  if (want.scores && scores) extras.scores = scores;
  return { out, extras };
}

/** The additive attention mask `(1 - mask)·(-10000)` as [B, 1, 1, L] (HF's extended mask). */
export function extendedMask(attentionMask: tf.Tensor2D): tf.Tensor4D {
  const [b, l] = attentionMask.shape;
  return tf.reshape(tf.mul(tf.sub(1, tf.cast(attentionMask, 'float32')), -10000), [b, 1, 1, l]);
}
