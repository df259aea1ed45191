/**
 * Ready-made adaptors for the BERT models: map `(batch, BertOutput)` to the fields the distillers read.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, type Adaptor, type AdaptorOutput } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';
import type { BertOutput } from './bert.model.js';

/**
 * Adaptor for sequence classification (BasicDistiller and GeneralDistiller):
 * `logits` [B, C], `hidden` = hiddenStates (HF numbering), `attention` = attention probabilities,
 * `inputsMask` = attention mask [B, L] (float32 0/1), `labels` [B] (int32) and `losses` = [CE] when the batch has labels.
 * Attention scores, when the model computed them, are exposed as the feature `attentionScores`.
 */
export const bertAdaptor: Adaptor<EncodedBatch, BertOutput> = (batch, out) => {
  const a: AdaptorOutput = {
    logits: out.logits,
    hidden: out.hiddenStates,
    attention: out.attentions,
    inputsMask: tf.tensor2d(batch.attentionMask, [batch.batchSize, batch.seqLen], 'float32'),
  };
  if (batch.labels) a.labels = tf.tensor1d(batch.labels, 'int32');
  if (out.loss) a.losses = [out.loss];
  if (out.attentionScores) a.attentionScores = out.attentionScores;
  return a;
};

/**
 * Adaptor for token classification: like {@link bertAdaptor} but `logits` is [B, L, C],
 * `logitsMask` = attention mask (padding takes no part in logit losses) and `labels` is [B, L]
 * (negative = ignore).
 */
export const bertTokenAdaptor: Adaptor<EncodedBatch, BertOutput> = (batch, out) => {
  const mask = tf.tensor2d(batch.attentionMask, [batch.batchSize, batch.seqLen], 'float32');
  const a: AdaptorOutput = {
    logits: out.logits,
    logitsMask: mask,
    hidden: out.hiddenStates,
    attention: out.attentions,
    inputsMask: mask,
  };
  if (batch.labels) a.labels = tf.tensor2d(batch.labels, [batch.batchSize, batch.seqLen], 'int32');
  if (out.loss) a.losses = [out.loss];
  if (out.attentionScores) a.attentionScores = out.attentionScores;
  return a;
};

/**
 * Variant of {@link bertAdaptor} whose `attention` is the pre-softmax scores (TinyBERT-style attention
 * MSE). The model must be run with `outputAttentionScores: true`.
 */
export const bertScoresAdaptor: Adaptor<EncodedBatch, BertOutput> = (batch, out) => {
  if (!out.attentionScores) {
    throw new DistilleryError('ADAPTOR_MISSING_OUTPUT', 'the model output has no attentionScores', {
      where: 'bertScoresAdaptor',
      hint: 'construct the model with { outputAttentionScores: true }',
    });
  }
  return { ...bertAdaptor(batch, out), attention: out.attentionScores };
};
