/**
 * DistilBERT's embeddings and transformer block, as transformers' `modeling_distilbert.py` computes them:
 * no token types; queries scaled before the product; masked scores *replaced* by the float32 minimum;
 * no dropout after `out_lin`; post-LN (`sa_layer_norm`, `output_layer_norm`).
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamStore } from '../bert/params.js';
import { activation, embeddingLookup, layerNorm, linear, type DropoutFn } from '../bert/layers.js';
import type { LayerExtras } from '../bert/encoder.js';
import type { DistilBertConfig } from './distilbert.config.js';

/** `torch.finfo(torch.float32).min`, what `masked_fill` writes at padded keys. */
export const F32_MIN = -3.4028234663852886e38;

/** `LayerNorm(word_embeddings[ids] + position_embeddings[0..L-1])`, then dropout. [B, L, D]. */
export function distilEmbeddings(p: ParamStore, c: DistilBertConfig, ids: tf.Tensor2D, drop: DropoutFn): tf.Tensor3D {
  const l = ids.shape[1];
  const words = embeddingLookup(p.get('distilbert.embeddings.word_embeddings.weight'), ids);
  const pos = embeddingLookup(p.get('distilbert.embeddings.position_embeddings.weight'), tf.range(0, l, 1, 'int32'));
  return drop(
    layerNorm(p, 'distilbert.embeddings.LayerNorm', tf.add(words, pos), c.layerNormEps),
    c.dropout,
  ) as tf.Tensor3D;
}

/**
 * One `TransformerBlock`. `keyMask` is the attention mask as bool [B, 1, 1, L] (true = real token).
 * Returns the block output and (when asked) the softmax probabilities and the masked scores.
 */
export function distilBlock(
  p: ParamStore,
  c: DistilBertConfig,
  i: number,
  x: tf.Tensor3D,
  keyMask: tf.Tensor4D,
  drop: DropoutFn,
  want: { probs: boolean; scores: boolean },
): { out: tf.Tensor3D; extras: LayerExtras } {
  const [b, l, d] = x.shape;
  const h = c.numAttentionHeads;
  const dh = d / h;
  const pre = `distilbert.transformer.layer.${i}`;
  const heads = (t: tf.Tensor) => tf.transpose<tf.Tensor4D>(tf.reshape(t, [b, l, h, dh]), [0, 2, 1, 3]);
  // transformers scales q (not the scores) by 1/√d_head.
  const q = tf.div(heads(linear(p, `${pre}.attention.q_lin`, x)), Math.sqrt(dh));
  const k = heads(linear(p, `${pre}.attention.k_lin`, x));
  const v = heads(linear(p, `${pre}.attention.v_lin`, x));
  const raw = tf.matMul(q, tf.transpose(k, [0, 1, 3, 2]));
  const scores = tf.where(tf.broadcastTo(keyMask, raw.shape), raw, tf.fill(raw.shape, F32_MIN)) as tf.Tensor4D;
  const probs = tf.softmax<tf.Tensor4D>(scores);
  const ctx = tf.matMul(drop(probs, c.attentionDropout), v);
  const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b, l, d]);
  const sa = layerNorm(
    p,
    `${pre}.sa_layer_norm`,
    tf.add(linear(p, `${pre}.attention.out_lin`, merged), x),
    c.layerNormEps,
  );
  const ffn = drop(linear(p, `${pre}.ffn.lin2`, activation(c.hiddenAct, linear(p, `${pre}.ffn.lin1`, sa))), c.dropout);
  const out = layerNorm(p, `${pre}.output_layer_norm`, tf.add(ffn, sa), c.layerNormEps) as tf.Tensor3D;
  const extras: LayerExtras = {};
  if (want.probs) extras.probs = probs;
  // Scores are reported with BERT's additive −10000 at padded keys (not the float32 minimum), so score-matching
  // losses can compare a DistilBERT student with a BERT teacher; the probabilities above are transformers' exactly.
  if (want.scores) extras.scores = tf.add<tf.Tensor4D>(raw, tf.mul(tf.sub(1, tf.cast(keyMask, 'float32')), -10000));
  return { out, extras };
}
