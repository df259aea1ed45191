/**
 * BERT embeddings and post-LN encoder layers, exactly as Hugging Face `BertModel` computes them.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from './bert.config.js';
import type { ParamStore } from './params.js';
import { activation, embeddingLookup, layerNorm, linear, type DropoutFn } from './layers.js';

/**
 * Embeddings: word + absolute position + token type, LayerNorm, dropout. Returns [B, L, D].
 * Positions are 0..L-1 (BERT) unless `positionIds` [B, L] is given (RoBERTa's padding-offset positions).
 */
export function embeddings(p: ParamStore, c: BertConfig, inputIds: tf.Tensor2D, tokenTypeIds: tf.Tensor2D, drop: DropoutFn, prefix = 'bert', positionIds?: tf.Tensor2D): tf.Tensor3D {
  const [, seqLen] = inputIds.shape;
  const pre = `${prefix}.embeddings`;
  const words = embeddingLookup(p.get(`${pre}.word_embeddings.weight`), inputIds);
  const types = embeddingLookup(p.get(`${pre}.token_type_embeddings.weight`), tokenTypeIds);
  const positions = embeddingLookup(p.get(`${pre}.position_embeddings.weight`), positionIds ?? tf.range(0, seqLen, 1, 'int32'));
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
  const q = heads(linear(p, `${pre}.attention.self.query`, x));
  const k = heads(linear(p, `${pre}.attention.self.key`, x));
  const v = heads(linear(p, `${pre}.attention.self.value`, x));
  // Explicit kᵀ: batched matMul with transposeB is slow on the wasm backend.
  const kT = tf.transpose(k, [0, 1, 3, 2]);
  const scores = tf.add<tf.Tensor4D>(tf.div(tf.matMul(q, kT), Math.sqrt(dh)), maskAdd);
  const probs = tf.softmax<tf.Tensor4D>(scores);
  const ctx = tf.matMul(drop(probs, c.attentionProbsDropoutProb), v);
  const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b, l, d]);
  const attnOut = drop(linear(p, `${pre}.attention.output.dense`, merged), c.hiddenDropoutProb);
  const a = layerNorm(p, `${pre}.attention.output.LayerNorm`, tf.add(attnOut, x), c.layerNormEps);
  const inter = activation(c.hiddenAct, linear(p, `${pre}.intermediate.dense`, a));
  const ffn = drop(linear(p, `${pre}.output.dense`, inter), c.hiddenDropoutProb);
  const out = layerNorm(p, `${pre}.output.LayerNorm`, tf.add(ffn, a), c.layerNormEps) as tf.Tensor3D;
  const extras: LayerExtras = {};
  if (want.probs) extras.probs = probs;
  if (want.scores) extras.scores = scores;
  return { out, extras };
}

/** The additive attention mask `(1 - mask)·(-10000)` as [B, 1, 1, L] (HF's extended mask). */
export function extendedMask(attentionMask: tf.Tensor2D): tf.Tensor4D {
  const [b, l] = attentionMask.shape;
  return tf.reshape(tf.mul(tf.sub(1, tf.cast(attentionMask, 'float32')), -10000), [b, 1, 1, l]);
}
