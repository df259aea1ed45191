/**
 * `BertForMaskedLM` (and RoBERTa's `RobertaForMaskedLM`, same class, `lm_head.*` names): the encoder plus the
 * masked-LM head whose decoder is tied to the word embeddings.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EncodedBatch } from '@distillery/data';
import { BertBase, type BertForwardOptions, type BertModelOptions, type BertOutput } from './bert.model.js';
import type { BertConfig } from './bert.config.js';
import { readHfConfig, readHfWeights, type PretrainedOptions } from './hf.files.js';
import { MLM_HEAD_NAMES, maskedLabels, maskedRows, mlmLogits, mlmLoss } from './mlm.head.js';

/** Forward options of the MLM models. */
export interface MlmForwardOptions extends BertForwardOptions {
  /**
   * With labels in the batch, run the head on the masked positions only: `logits` is `[M, V]` in row-major
   * order of the masked tokens. `false`: `[B, L, V]` at every position (the adaptor then sets `logitsMask`).
   * @default true
   */
  maskedOnly?: boolean;
}

/**
 * BERT with the masked-LM head. `batch.labels` ([B·L], −100 where not masked) gives the MLM loss (mean
 * cross-entropy over masked tokens) and, by default, logits only at the masked positions.
 */
export class BertForMaskedLM extends BertBase {
  constructor(config: BertConfig, opts: BertModelOptions = {}, weights: Readonly<Record<string, tf.Tensor>> = {}) {
    super(config, 'mlm', opts, weights);
  }

  /** Load a Hugging Face folder (config.json + model.safetensors); the tied decoder copy is skipped. */
  static async fromPretrained(dir: string, opts: BertModelOptions & PretrainedOptions = {}): Promise<BertForMaskedLM> {
    const config = readHfConfig(dir);
    return new BertForMaskedLM(config, opts, await readHfWeights(dir, config, 'mlm', opts));
  }

  forward(batch: EncodedBatch, opts: MlmForwardOptions): BertOutput {
    const drop = this.dropoutFor(opts);
    const { seq, out } = this.encode(batch, opts, drop);
    const rows = maskedRows(batch);
    const only = rows && opts.maskedOnly !== false ? rows : undefined;
    const c = this.config;
    out.logits = mlmLogits(this.store, MLM_HEAD_NAMES[this.family], c.hiddenAct, c.layerNormEps, seq, only);
    if (rows)
      out.loss = only
        ? mlmLoss(out.logits, maskedLabels(batch, rows))
        : mlmLoss(gatherRows(out.logits, rows), maskedLabels(batch, rows));
    return out;
  }
}

/** Rows of `[B, L, V]` logits at flat positions, `[M, V]`. */
function gatherRows(logits: tf.Tensor, rows: Int32Array): tf.Tensor {
  const v = logits.shape[2]!;
  return tf.gather(tf.reshape(logits, [-1, v]), tf.tensor1d(rows, 'int32'));
}
