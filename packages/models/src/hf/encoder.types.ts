/**
 * What every encoder family (BERT, RoBERTa, DistilBERT) offers, so loading, saving, prediction, student
 * building and the adaptors work on any of them.
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { DistillModel } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';
import type { BertForwardOptions, BertOutput } from '../bert/bert.model.js';
import type { BertHead } from '../bert/weights.js';
import type { ParamStore } from '../bert/params.js';

/** Model families that load from Hugging Face folders. */
export type ModelFamily = 'bert' | 'roberta' | 'distilbert';

/** The config fields every family shares (camelCase of the HF fields). */
export interface EncoderConfigLike {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  padTokenId: number;
  numLabels: number;
  id2label: string[];
  extra: Record<string, unknown>;
}

/** A Hugging Face encoder model of any family: same output type ({@link BertOutput}) and adaptors. */
export interface EncoderModel extends DistillModel<EncodedBatch, BertOutput> {
  readonly family: ModelFamily;
  readonly head: BertHead;
  readonly config: EncoderConfigLike;
  readonly store: ParamStore;
  forward(batch: EncodedBatch, opts: BertForwardOptions): BertOutput;
  /** All weights by HF name (variables or frozen tensors). */
  weights(): Readonly<Record<string, tf.Tensor>>;
  /** HF weight names and PyTorch shapes of this model. */
  weightShapes(): [string, number[]][];
  /** The `config.json` object a save writes (with `architectures`). */
  hfConfig(): Record<string, unknown>;
  dispose(): void;
}
