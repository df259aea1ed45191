/**
 * Batched inference for sequence classifiers: labels, softmax scores and logits per text.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import { collate, type Encoding, type PairEncodeOptions, type TextTokenizer } from '@distillery/data';
import type { EncoderModel } from '../hf/encoder.types.js';
import { isRegression } from '../bert/tasks.js';

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
export function predictTexts(
  model: EncoderModel,
  tokenizer: TextTokenizer,
  texts: readonly string[],
  opts: PredictOptions = {},
): Prediction[] {
  return predictEncodings(
    model,
    tokenizer.padId,
    texts.map((t) => tokenizer.encode(t)),
    texts,
    opts,
  );
}

/** One sentence-pair prediction: as {@link Prediction}, with both texts. */
export interface PairPrediction extends Prediction {
  textA: string;
  textB: string;
}

/**
 * Classify sentence pairs (`[CLS] a [SEP] b [SEP]`, truncated by `opts.truncation`, default `longest_first`).
 * `text` of each result is `a` and `b` joined by a tab. Regression heads give the value as `score` and label `""`.
 */
export function predictPairs(
  model: EncoderModel,
  tokenizer: TextTokenizer,
  pairs: readonly { textA: string; textB: string }[],
  opts: PredictOptions & PairEncodeOptions = {},
): PairPrediction[] {
  if (!tokenizer.encodePair)
    throw new DistilleryError('TOKENIZER_UNSUPPORTED', 'this tokenizer cannot encode sentence pairs', {
      where: 'predictPairs',
    });
  const encs = pairs.map((p) => tokenizer.encodePair!(p.textA, p.textB, opts));
  const out = predictEncodings(
    model,
    tokenizer.padId,
    encs,
    pairs.map((p) => `${p.textA}\t${p.textB}`),
    opts,
  );
  return out.map((p, i) => ({ ...p, textA: pairs[i]!.textA, textB: pairs[i]!.textB }));
}

/** Batched eval-mode forward over ready encodings; results in input order. */
export function predictEncodings(
  model: EncoderModel,
  padId: number,
  encs: readonly Encoding[],
  texts: readonly string[],
  opts: PredictOptions = {},
): Prediction[] {
  const { batchSize = 64, sortByLength = true } = opts;
  if (model.head !== 'sequence') {
    throw new DistilleryError(
      'MODEL_UNSUPPORTED',
      `prediction needs a sequence classifier, the model is a ${model.head === 'token' ? 'token classifier' : 'bare encoder'}`,
      { where: 'predict' },
    );
  }
  const regression = isRegression(model.config);
  const order = texts.map((_, i) => i);
  if (sortByLength) order.sort((a, b) => encs[a]!.ids.length - encs[b]!.ids.length || a - b);
  const out: Prediction[] = new Array<Prediction>(texts.length);
  for (let s = 0; s < order.length; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const batch = collate(
      idx.map((i) => encs[i]!),
      padId,
    );
    const [logits, probs] = tf.tidy(() => {
      // Only logits are needed: skip hidden states and attentions.
      const o = model.forward(batch, { training: false, outputHiddenStates: false, outputAttentions: false });
      return [
        o.logits.dataSync() as Float32Array,
        (regression ? o.logits : tf.softmax(o.logits)).dataSync() as Float32Array,
      ];
    });
    const c = model.config.numLabels;
    idx.forEach((i, r) => {
      const row = Array.from(logits.subarray(r * c, (r + 1) * c));
      let best = 0;
      for (let j = 1; j < c; j++) if (row[j]! > row[best]!) best = j;
      out[i] = {
        text: texts[i]!,
        labelId: best,
        label: regression ? '' : model.config.id2label[best]!,
        score: probs[r * c + best]!,
        inputIds: encs[i]!.ids,
        logits: row,
      };
    });
    opts.onProgress?.(Math.min(s + batchSize, order.length), order.length);
  }
  return out;
}
