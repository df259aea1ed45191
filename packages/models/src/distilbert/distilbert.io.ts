/**
 * Loading DistilBERT folders and initialising a DistilBERT student from a BERT teacher (DistilBERT's recipe).
 * @packageDocumentation
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import type { BertBase, BertModelOptions } from '../bert/bert.model.js';
import type { BertHead } from '../bert/weights.js';
import type { PretrainedOptions } from '../bert/hf.files.js';
import { readConfigJson } from '../hf/checkpoint.js';
import { loadNamedWeights } from '../hf/named-weights.js';
import { parseDistilBertConfig, type DistilBertConfig } from './distilbert.config.js';
import { distilBertWeightShapes } from './distilbert.weights.js';
import {
  DistilBertBase,
  DistilBertForMaskedLM,
  DistilBertForSequenceClassification,
  DistilBertForTokenClassification,
  DistilBertModel,
} from './distilbert.model.js';

/** Read and validate a DistilBERT `config.json`. */
export function readDistilBertConfig(dir: string): DistilBertConfig {
  return parseDistilBertConfig(readConfigJson(dir), join(dir, 'config.json'));
}

/** Build the DistilBERT class for `head` around given weights. */
export function makeDistilBert(
  config: DistilBertConfig,
  head: BertHead,
  opts: BertModelOptions = {},
  weights: Record<string, tf.Tensor> = {},
): DistilBertBase {
  if (head === 'sequence') return new DistilBertForSequenceClassification(config, opts, weights);
  if (head === 'token') return new DistilBertForTokenClassification(config, opts, weights);
  if (head === 'mlm') return new DistilBertForMaskedLM(config, opts, weights);
  return new DistilBertModel(config, opts, weights);
}

/** Load a DistilBERT folder (config.json + model.safetensors or a sharded index) with the given head. */
export async function loadDistilBert(
  dir: string,
  head: BertHead,
  opts: BertModelOptions & PretrainedOptions = {},
): Promise<DistilBertBase> {
  const config = readDistilBertConfig(dir);
  const weights = await loadNamedWeights(dir, distilBertWeightShapes(config, head), {
    // Bare-encoder checkpoints (DistilBertModel) store names without the `distilbert.` prefix.
    canonical: (n) => (/^(embeddings|transformer)\./.test(n) ? `distilbert.${n}` : n),
    // Buffers and the masked-LM head of DistilBertForMaskedLM, or a head this model does not use.
    // vocab_projector.weight is the tied copy of the word embeddings: never read.
    ignore: (n) =>
      n.endsWith('position_ids') ||
      n === 'vocab_projector.weight' ||
      (head !== 'mlm' && n.startsWith('vocab_')) ||
      (head !== 'sequence' && n.startsWith('pre_classifier.')) ||
      (head === 'none' && n.startsWith('classifier.')),
    initMissing: opts.initMissing,
    what: `a DistilBERT ${head === 'none' ? 'encoder' : head === 'mlm' ? 'masked LM' : `${head} classifier`}`,
  });
  return makeDistilBert(config, head, opts, weights);
}

/** Options of {@link initDistilBertFromBert}. */
export interface DistilFromBertOptions {
  /** Student layer i ← teacher layer layerMap[i]; default every other layer (0, 2, 4, …). */
  layerMap?: readonly number[];
  /**
   * Add the teacher's token-type-0 embedding to the position embeddings (default true), so the student's embedding
   * output equals the teacher's for single sentences. DistilBERT's own extraction script drops token types instead.
   */
  foldTokenType?: boolean;
  /** Copy `bert.pooler.dense` into `pre_classifier` and the classifier when shapes match (default true). */
  copyHead?: boolean;
}

const LAYER_MAP: [string, string][] = [
  ['attention.self.query', 'attention.q_lin'],
  ['attention.self.key', 'attention.k_lin'],
  ['attention.self.value', 'attention.v_lin'],
  ['attention.output.dense', 'attention.out_lin'],
  ['attention.output.LayerNorm', 'sa_layer_norm'],
  ['intermediate.dense', 'ffn.lin1'],
  ['output.dense', 'ffn.lin2'],
  ['output.LayerNorm', 'output_layer_norm'],
];

/**
 * DistilBERT's recipe: initialise a DistilBERT student from a BERT teacher of the same width — embeddings and
 * every other layer (`query/key/value/output.dense` → `q/k/v/out_lin`, `intermediate/output.dense` → `ffn.lin1/lin2`,
 * LayerNorms → `sa_layer_norm`/`output_layer_norm`). Returns the names copied.
 */
export function initDistilBertFromBert(
  teacher: BertBase,
  student: DistilBertBase,
  opts: DistilFromBertOptions = {},
): { layerMap: number[]; copied: string[] } {
  const t = teacher.config;
  const s = student.config;
  if (teacher.family !== 'bert')
    throw new DistilleryError('CONFIG_INVALID', `the teacher is ${teacher.family}, not BERT`, {
      where: 'initDistilBertFromBert',
    });
  for (const [a, b, label] of [
    [t.hiddenSize, s.hiddenSize, 'hidden size'],
    [t.numAttentionHeads, s.numAttentionHeads, 'attention heads'],
    [t.intermediateSize, s.intermediateSize, 'intermediate size'],
    [t.vocabSize, s.vocabSize, 'vocabulary'],
  ] as const) {
    if (a !== b)
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `cannot copy teacher layers: ${label} is ${a} in the teacher but ${b} in the student`,
        { where: 'initDistilBertFromBert', hint: 'make the student with distilBertConfigFromBert(teacher.config)' },
      );
  }
  if (s.maxPositionEmbeddings > t.maxPositionEmbeddings)
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `student max_position_embeddings ${s.maxPositionEmbeddings} exceeds the teacher's ${t.maxPositionEmbeddings}`,
      { where: 'initDistilBertFromBert' },
    );
  const map = opts.layerMap ? [...opts.layerMap] : Array.from({ length: s.numHiddenLayers }, (_, i) => 2 * i);
  if (map.length !== s.numHiddenLayers || map.some((l) => !Number.isInteger(l) || l < 0 || l >= t.numHiddenLayers)) {
    throw new DistilleryError(
      'CONFIG_INVALID',
      `layerMap [${map.join(',')}] must give one teacher layer (0..${t.numHiddenLayers - 1}) per student layer (${s.numHiddenLayers})`,
      { where: 'initDistilBertFromBert.layerMap' },
    );
  }
  const tw = teacher.weights();
  const copied: string[] = [];
  const put = (dst: string, value: tf.Tensor) => {
    student.store.set(dst, value);
    copied.push(dst);
  };
  const d = s.hiddenSize;
  put('distilbert.embeddings.word_embeddings.weight', tf.clone(tw['bert.embeddings.word_embeddings.weight']!));
  put(
    'distilbert.embeddings.position_embeddings.weight',
    tf.tidy(() => {
      const pos = tf.slice(tw['bert.embeddings.position_embeddings.weight']!, [0, 0], [s.maxPositionEmbeddings, d]);
      return opts.foldTokenType === false
        ? pos
        : tf.add(pos, tf.slice(tw['bert.embeddings.token_type_embeddings.weight']!, [0, 0], [1, d]));
    }),
  );
  for (const p of ['weight', 'bias'])
    put(`distilbert.embeddings.LayerNorm.${p}`, tf.clone(tw[`bert.embeddings.LayerNorm.${p}`]!));
  map.forEach((tl, sl) => {
    for (const [from, to] of LAYER_MAP) {
      for (const p of ['weight', 'bias'])
        put(`distilbert.transformer.layer.${sl}.${to}.${p}`, tf.clone(tw[`bert.encoder.layer.${tl}.${from}.${p}`]!));
    }
  });
  if (opts.copyHead !== false && student.head === 'sequence') {
    for (const p of ['weight', 'bias']) {
      const pool = tw[`bert.pooler.dense.${p}`];
      if (pool) put(`pre_classifier.${p}`, tf.clone(pool));
      const cls = tw[`classifier.${p}`];
      if (cls && s.numLabels === t.numLabels) put(`classifier.${p}`, tf.clone(cls));
    }
  }
  return { layerMap: map, copied };
}
