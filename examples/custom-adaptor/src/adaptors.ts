/**
 * The adaptors: what each side hands the distiller. Both expose a `pooled` feature — the CNN's
 * max-pooled vector and the teacher's pooler output (tanh(dense([CLS])) — that one intermediate
 * match (`feature: "pooled"`) compares through a linear projection. Neither returns `inputsMask`:
 * the pooled vectors have no token axis, so the match loss averages over every element.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Adaptor } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';
import type { BertOutput } from '@distillery/models';
import type { TextCnnOutput } from './text-cnn.model.js';

/** Student (CNN) adaptor: logits, labels, its supervised loss and the pooled feature. */
export const cnnAdaptor: Adaptor<EncodedBatch, TextCnnOutput> = (batch, out) => ({
  logits: out.logits,
  ...(batch.labels ? { labels: tf.tensor1d(batch.labels, 'int32') } : {}),
  ...(out.loss ? { losses: [out.loss] } : {}),
  pooled: [out.pooled],
});

/** Teacher (BERT) adaptor: logits and the pooled [CLS] vector (the pooler's, else the last layer's [CLS] state). */
export const bertPooledAdaptor: Adaptor<EncodedBatch, BertOutput> = (batch, out) => {
  const last = out.hiddenStates.at(-1)!;
  const cls = out.pooledOutput ?? tf.squeeze<tf.Tensor2D>(tf.slice(last, [0, 0, 0], [-1, 1, -1]), [1]);
  return { logits: out.logits, ...(batch.labels ? { labels: tf.tensor1d(batch.labels, 'int32') } : {}), pooled: [cls] };
};
