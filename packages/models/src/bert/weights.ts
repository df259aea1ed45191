/**
 * The weight inventory of a BERT model (HF names and PyTorch shapes) and its initialisation.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { bertFamily, type BertConfig } from './bert.config.js';
import { MLM_HEAD_NAMES, mlmWeightShapes } from './mlm.head.js';

/** Which head sits on the encoder (`mlm`: the masked-LM head, decoder tied to the word embeddings). */
export type BertHead = 'none' | 'sequence' | 'token' | 'mlm';

/** HF weight names and shapes, in a stable order: embeddings, layers, pooler, classifier. */
export function bertWeightShapes(c: BertConfig, head: BertHead): [string, number[]][] {
  const d = c.hiddenSize;
  const fam = bertFamily(c); // 'bert' or 'roberta': the prefix of the encoder's names
  const out: [string, number[]][] = [
    [`${fam}.embeddings.word_embeddings.weight`, [c.vocabSize, d]],
    [`${fam}.embeddings.position_embeddings.weight`, [c.maxPositionEmbeddings, d]],
    [`${fam}.embeddings.token_type_embeddings.weight`, [c.typeVocabSize, d]],
    [`${fam}.embeddings.LayerNorm.weight`, [d]],
    [`${fam}.embeddings.LayerNorm.bias`, [d]],
  ];
  const lin = (name: string, o: number, i: number) => out.push([`${name}.weight`, [o, i]], [`${name}.bias`, [o]]);
  const ln = (name: string) => out.push([`${name}.weight`, [d]], [`${name}.bias`, [d]]);
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `${fam}.encoder.layer.${i}`;
    lin(`${p}.attention.self.query`, d, d);
    lin(`${p}.attention.self.key`, d, d);
    lin(`${p}.attention.self.value`, d, d);
    lin(`${p}.attention.output.dense`, d, d);
    ln(`${p}.attention.output.LayerNorm`);
    lin(`${p}.intermediate.dense`, c.intermediateSize, d);
    lin(`${p}.output.dense`, d, c.intermediateSize);
    ln(`${p}.output.LayerNorm`);
  }
  if (fam === 'roberta') {
    // RobertaModel keeps its pooler; the task heads are built with add_pooling_layer=False.
    if (head === 'none') lin('roberta.pooler.dense', d, d);
    // RobertaClassificationHead: dense → tanh → out_proj on the <s> vector.
    if (head === 'sequence') {
      lin('classifier.dense', d, d);
      lin('classifier.out_proj', c.numLabels, d);
    }
    if (head === 'token') lin('classifier', c.numLabels, d);
    if (head === 'mlm') out.push(...mlmWeightShapes(MLM_HEAD_NAMES.roberta, d, c.vocabSize));
    return out;
  }
  // HF's BertForTokenClassification and BertForMaskedLM have no pooler (add_pooling_layer=False).
  if (head === 'mlm') {
    out.push(...mlmWeightShapes(MLM_HEAD_NAMES.bert, d, c.vocabSize));
    return out;
  }
  if (head !== 'token') lin('bert.pooler.dense', d, d);
  if (head !== 'none') lin('classifier', c.numLabels, d);
  return out;
}

/**
 * BERT initialisation as Hugging Face `_init_weights`: weights and embeddings N(0, initializer_range),
 * biases 0, LayerNorm 1/0, the padding row of the word embeddings 0. Seeded: same seed, same weights.
 */
export function initWeight(c: BertConfig, name: string, shape: number[], seed: number): tf.Tensor {
  if (name.endsWith('LayerNorm.weight') || name.endsWith('layer_norm.weight')) return tf.ones(shape);
  if (name.endsWith('.bias')) return tf.zeros(shape);
  return tf.tidy(() => {
    const w = tf.randomNormal(shape, 0, c.initializerRange, 'float32', seed);
    if (name.endsWith('embeddings.word_embeddings.weight') && c.padTokenId < shape[0]!) {
      const keep = tf.reshape(tf.oneHot(tf.tensor1d([c.padTokenId], 'int32'), shape[0]!), [shape[0]!, 1]);
      return tf.mul(w, tf.sub(1, keep));
    }
    return w;
  });
}

/** A stable per-name seed derived from the model seed (FNV-1a of the name). */
export function seedFor(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
