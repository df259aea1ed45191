/**
 * RoBERTa-style models (`model_type` `roberta`, also `xlm-roberta` and `camembert`): BERT's encoder under
 * `roberta.*` names with position ids offset by `padding_idx + 1` (transformers'
 * `create_position_ids_from_input_ids`), one token type, and `RobertaClassificationHead`
 * (`classifier.dense` → tanh → `classifier.out_proj` on the `<s>` vector). The computation lives in
 * `BertBase`, keyed by the config's family; these classes name it and check the family.
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import { bertConfig, bertFamily, type BertConfig } from '../bert/bert.config.js';
import {
  BertForSequenceClassification,
  BertForTokenClassification,
  BertModel,
  type BertModelOptions,
} from '../bert/bert.model.js';
import { readHfConfig, readHfWeights, type PretrainedOptions } from '../bert/hf.files.js';

function requireRoberta(c: BertConfig, where: string): BertConfig {
  if (bertFamily(c) !== 'roberta')
    throw new DistilleryError('CONFIG_INVALID', `model_type "${String(c.extra.model_type)}" is not RoBERTa-style`, {
      where,
      hint: 'use loadHfModel() to load any family',
    });
  return c;
}

/**
 * A RoBERTa config from partial fields with RoBERTa's defaults (pad id 1, 514 positions, one token type,
 * LayerNorm eps 1e-5).
 */
export function robertaConfig(fields: Parameters<typeof bertConfig>[0] = {}): BertConfig {
  return bertConfig({
    padTokenId: 1,
    maxPositionEmbeddings: 514,
    typeVocabSize: 1,
    layerNormEps: 1e-5,
    vocabSize: 50265,
    ...fields,
    extra: { model_type: 'roberta', ...fields.extra },
  });
}

/** The bare RoBERTa encoder (with pooler). */
export class RobertaModel extends BertModel {
  constructor(config: BertConfig, opts: BertModelOptions = {}, weights: Readonly<Record<string, tf.Tensor>> = {}) {
    super(requireRoberta(config, 'RobertaModel'), opts, weights);
  }

  static override async fromPretrained(
    dir: string,
    opts: BertModelOptions & PretrainedOptions = {},
  ): Promise<RobertaModel> {
    const config = requireRoberta(readHfConfig(dir), dir);
    return new RobertaModel(config, opts, await readHfWeights(dir, config, 'none', opts));
  }
}

/** RoBERTa with `RobertaClassificationHead`: logits [B, numLabels] (MSE for regression configs). */
export class RobertaForSequenceClassification extends BertForSequenceClassification {
  constructor(config: BertConfig, opts: BertModelOptions = {}, weights: Readonly<Record<string, tf.Tensor>> = {}) {
    super(requireRoberta(config, 'RobertaForSequenceClassification'), opts, weights);
  }

  static override async fromPretrained(
    dir: string,
    opts: BertModelOptions & PretrainedOptions = {},
  ): Promise<RobertaForSequenceClassification> {
    const config = requireRoberta(readHfConfig(dir), dir);
    return new RobertaForSequenceClassification(config, opts, await readHfWeights(dir, config, 'sequence', opts));
  }
}

/** RoBERTa with a per-token classifier: logits [B, L, numLabels]. */
export class RobertaForTokenClassification extends BertForTokenClassification {
  constructor(config: BertConfig, opts: BertModelOptions = {}, weights: Readonly<Record<string, tf.Tensor>> = {}) {
    super(requireRoberta(config, 'RobertaForTokenClassification'), opts, weights);
  }

  static override async fromPretrained(
    dir: string,
    opts: BertModelOptions & PretrainedOptions = {},
  ): Promise<RobertaForTokenClassification> {
    const config = requireRoberta(readHfConfig(dir), dir);
    return new RobertaForTokenClassification(config, opts, await readHfWeights(dir, config, 'token', opts));
  }
}
