/**
 * The adaptor of the masked-LM models (any family) for the distillers: KD over the vocabulary at the
 * masked positions only, the MLM loss as the hard-label term, hidden states for `cos`/`mse` matches.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Adaptor, AdaptorOutput } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';
import type { BertOutput } from './bert.model.js';
import { maskedLabels, maskedRows } from './mlm.head.js';

/**
 * Masked-LM adaptor. When the model computed logits at the masked rows only (`[M, V]`, the default with
 * labels), they go to KD as they are: teacher and student see the same batch, so their rows line up.
 * When it computed `[B, L, V]` (`maskedOnly: false`), `logitsMask` marks the masked positions and the
 * KD pipeline selects them. `losses` = [MLM cross-entropy], `labels` = the masked tokens' ids,
 * `hidden`/`attention` as {@link bertAdaptor}, `inputsMask` = attention mask.
 */
export const bertMlmAdaptor: Adaptor<EncodedBatch, BertOutput> = (batch, out) => {
  const { batchSize: b, seqLen: l } = batch;
  const a: AdaptorOutput = {
    logits: out.logits,
    hidden: out.hiddenStates,
    attention: out.attentions,
    inputsMask: tf.tensor2d(batch.attentionMask, [b, l], 'float32'),
  };
  const rows = maskedRows(batch);
  if (rows) {
    if (out.logits.rank === 3) {
      a.logitsMask = tf.tensor2d(
        Float32Array.from(batch.labels!, (v) => (v >= 0 ? 1 : 0)),
        [b, l],
        'float32',
      );
      a.labels = tf.tensor2d(batch.labels!, [b, l], 'int32');
    } else {
      a.labels = tf.tensor1d(maskedLabels(batch, rows), 'int32');
    }
  }
  if (out.loss) a.losses = [out.loss];
  if (out.attentionScores) a.attentionScores = out.attentionScores;
  return a;
};
