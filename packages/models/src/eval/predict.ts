/**
 * Batched inference for sequence classifiers: labels, softmax scores and logits per text.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { collate, type TextTokenizer } from '@distillery/data';
import type { EncoderModel } from '../hf/encoder.types.js';

/** One prediction. */
export interface Prediction {
  text: string;
  labelId: number;
  label: string;
  /** Softmax probability of the predicted label. */
  score: number;
  inputIds: number[];
  logits: number[];
}

/** Options of {@link predictTexts}. */
export interface PredictOptions {
  batchSize?: number;
  /**
   * Sort texts by token length before batching (less padding, much faster); results come back in
   * input order. Default true.
   */
  sortByLength?: boolean;
  /** Called after each batch with the number of texts done. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Classify texts with a sequence-classification model (eval mode, no dropout). Tensors are freed per
 * batch; the engine's tensor count is unchanged afterwards.
 */
export function predictTexts(model: EncoderModel, tokenizer: TextTokenizer, texts: readonly string[], opts: PredictOptions = {}): Prediction[] {
  const { batchSize = 64, sortByLength = true } = opts;
  const encs = texts.map((t) => tokenizer.encode(t));
  const order = texts.map((_, i) => i);
  if (sortByLength) order.sort((a, b) => encs[a]!.ids.length - encs[b]!.ids.length || a - b);
  const out: Prediction[] = new Array(texts.length);
  for (let s = 0; s < order.length; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const batch = collate(idx.map((i) => encs[i]!), tokenizer.padId);
    const [logits, probs] = tf.tidy(() => {
      // Only logits are needed: skip hidden states and attentions.
      const o = model.forward(batch, { training: false, outputHiddenStates: false, outputAttentions: false });
      return [o.logits.dataSync() as Float32Array, tf.softmax(o.logits).dataSync() as Float32Array];
    });
    const c = model.config.numLabels;
    idx.forEach((i, r) => {
      const row = Array.from(logits.subarray(r * c, (r + 1) * c));
      let best = 0;
      for (let j = 1; j < c; j++) if (row[j]! > row[best]!) best = j;
      out[i] = { text: texts[i]!, labelId: best, label: model.config.id2label[best]!, score: probs[r * c + best]!, inputIds: encs[i]!.ids, logits: row };
    });
    opts.onProgress?.(Math.min(s + batchSize, order.length), order.length);
  }
  return out;
}
