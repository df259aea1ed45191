/**
 * DistilBERT's weight inventory (HF names, PyTorch shapes) and initialisation.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BertHead } from '../bert/weights.js';
import { MLM_HEAD_NAMES, mlmWeightShapes } from '../bert/mlm.head.js';
import type { DistilBertConfig } from './distilbert.config.js';

/** HF names and shapes: embeddings, transformer layers, head (`pre_classifier` + `classifier` for sequences). */
export function distilBertWeightShapes(c: DistilBertConfig, head: BertHead): [string, number[]][] {
  const d = c.hiddenSize;
  const out: [string, number[]][] = [
    ['distilbert.embeddings.word_embeddings.weight', [c.vocabSize, d]],
    ['distilbert.embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, d]],
    ['distilbert.embeddings.LayerNorm.weight', [d]],
    ['distilbert.embeddings.LayerNorm.bias', [d]],
  ];
  const lin = (name: string, o: number, i: number) => out.push([`${name}.weight`, [o, i]], [`${name}.bias`, [o]]);
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `distilbert.transformer.layer.${i}`;
    for (const n of ['q_lin', 'k_lin', 'v_lin', 'out_lin']) lin(`${p}.attention.${n}`, d, d);
    out.push([`${p}.sa_layer_norm.weight`, [d]], [`${p}.sa_layer_norm.bias`, [d]]);
    lin(`${p}.ffn.lin1`, c.intermediateSize, d);
    lin(`${p}.ffn.lin2`, d, c.intermediateSize);
    out.push([`${p}.output_layer_norm.weight`, [d]], [`${p}.output_layer_norm.bias`, [d]]);
  }
  if (head === 'mlm') {
    out.push(...mlmWeightShapes(MLM_HEAD_NAMES.distilbert, d, c.vocabSize));
    return out;
  }
  if (head === 'sequence') lin('pre_classifier', d, d);
  if (head !== 'none') lin('classifier', c.numLabels, d);
  return out;
}

/** transformers' `create_sinusoidal_embeddings`: even columns sin(pos/10000^(2j/dim)), odd columns cos. */
export function sinusoidalPositions(n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let pos = 0; pos < n; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      out[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return out;
}

/**
 * DistilBERT's `_init_weights`: linear and embedding weights N(0, initializer_range), biases 0, LayerNorm 1/0,
 * the padding row 0; sinusoidal positions when configured. Seeded.
 */
export function initDistilBertWeight(c: DistilBertConfig, name: string, shape: number[], seed: number): tf.Tensor {
  if (/(LayerNorm|layer_norm)\.weight$/.test(name)) return tf.ones(shape);
  if (name.endsWith('.bias')) return tf.zeros(shape);
  if (name.endsWith('position_embeddings.weight') && c.sinusoidalPosEmbds)
    return tf.tensor(sinusoidalPositions(shape[0]!, shape[1]!), shape);
  return tf.tidy(() => {
    const w = tf.randomNormal(shape, 0, c.initializerRange, 'float32', seed);
    if (name.endsWith('word_embeddings.weight') && c.padTokenId < shape[0]!) {
      const keep = tf.reshape(tf.oneHot(tf.tensor1d([c.padTokenId], 'int32'), shape[0]!), [shape[0]!, 1]);
      return tf.mul(w, tf.sub(1, keep));
    }
    return w;
  });
}
