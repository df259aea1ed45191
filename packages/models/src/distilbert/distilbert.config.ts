/**
 * `DistilBertConfig`: the Hugging Face `config.json` of a DistilBERT model (`model_type: "distilbert"`),
 * parsed and validated. Field names follow {@link BertConfig} where the meaning is the same
 * (`dim` → `hiddenSize`, `n_layers` → `numHiddenLayers`, `hidden_dim` → `intermediateSize`), so student
 * builders and adaptors treat both families alike.
 * @packageDocumentation
 */
import { DistilleryError, suggest } from '@distillery/core';
import type { BertConfig, HiddenAct } from '../bert/bert.config.js';
import { parseLabelNames } from '../hf/labels.js';

const ACTS: Record<string, HiddenAct> = {
  gelu: 'gelu',
  gelu_python: 'gelu',
  gelu_new: 'gelu_new',
  gelu_pytorch_tanh: 'gelu_new',
  relu: 'relu',
};

/** A validated DistilBERT configuration. */
export interface DistilBertConfig {
  vocabSize: number;
  /** `dim`. */
  hiddenSize: number;
  /** `n_layers`. */
  numHiddenLayers: number;
  /** `n_heads`. */
  numAttentionHeads: number;
  /** `hidden_dim` (FFN width). */
  intermediateSize: number;
  maxPositionEmbeddings: number;
  /** Fixed sinusoidal position embeddings (not trained), as `sinusoidal_pos_embds`. */
  sinusoidalPosEmbds: boolean;
  /** `activation`. */
  hiddenAct: HiddenAct;
  /** `dropout`: embeddings, FFN output and the token-classification head. */
  dropout: number;
  /** `attention_dropout`: on the attention probabilities. */
  attentionDropout: number;
  /** `seq_classif_dropout`: before the sequence classifier. */
  seqClassifDropout: number;
  initializerRange: number;
  padTokenId: number;
  /** Always 1e-12 in transformers' DistilBERT (not a config field). */
  layerNormEps: number;
  numLabels: number;
  id2label: string[];
  /** Other fields of config.json, written back on save (architectures, problem_type, qa_dropout…). */
  extra: Record<string, unknown>;
}

const KNOWN = new Set([
  'vocab_size',
  'dim',
  'n_layers',
  'n_heads',
  'hidden_dim',
  'max_position_embeddings',
  'sinusoidal_pos_embds',
  'activation',
  'dropout',
  'attention_dropout',
  'seq_classif_dropout',
  'initializer_range',
  'pad_token_id',
  'num_labels',
  'id2label',
  'label2id',
]);

/** transformers' DistilBertConfig defaults (distilbert-base-uncased). */
const DEFAULTS: Record<string, unknown> = {
  vocab_size: 30522,
  dim: 768,
  n_layers: 6,
  n_heads: 12,
  hidden_dim: 3072,
  max_position_embeddings: 512,
  sinusoidal_pos_embds: false,
  activation: 'gelu',
  dropout: 0.1,
  attention_dropout: 0.1,
  seq_classif_dropout: 0.2,
  initializer_range: 0.02,
  pad_token_id: 0,
};

/** Parse and validate a DistilBERT `config.json` object; errors name the file and field. */
export function parseDistilBertConfig(json: Record<string, unknown>, where = 'config.json'): DistilBertConfig {
  const at = (f: string) => `${where}: ${f}`;
  const get = (k: string) => json[k] ?? DEFAULTS[k];
  const int = (k: string, min: number): number => {
    const v = get(k);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw new DistilleryError('CONFIG_INVALID', `must be an integer >= ${min}, got ${JSON.stringify(v)}`, {
        where: at(k),
      });
    return v;
  };
  const prob = (k: string): number => {
    const v = get(k);
    if (typeof v !== 'number' || v < 0 || v >= 1)
      throw new DistilleryError('CONFIG_INVALID', `must be a probability in [0, 1), got ${JSON.stringify(v)}`, {
        where: at(k),
      });
    return v;
  };
  if (json.model_type !== undefined && json.model_type !== 'distilbert') {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a config.json value of any JSON type, quoted as given in the error
    throw new DistilleryError('CONFIG_INVALID', `model_type "${String(json.model_type)}" is not DistilBERT`, {
      where: at('model_type'),
      hint: 'load any family with loadHfModel()',
    });
  }
  const hiddenSize = int('dim', 1);
  const numAttentionHeads = int('n_heads', 1);
  if (hiddenSize % numAttentionHeads !== 0)
    throw new DistilleryError('CONFIG_INVALID', `dim ${hiddenSize} is not a multiple of n_heads ${numAttentionHeads}`, {
      where: at('n_heads'),
    });
  const actName = String(get('activation'));
  const hiddenAct = ACTS[actName];
  if (!hiddenAct)
    throw new DistilleryError('CONFIG_INVALID', `unsupported activation "${actName}"`, {
      where: at('activation'),
      hint: suggest(actName, Object.keys(ACTS)),
    });
  const sin = get('sinusoidal_pos_embds');
  if (typeof sin !== 'boolean')
    throw new DistilleryError('CONFIG_INVALID', `must be true or false, got ${JSON.stringify(sin)}`, {
      where: at('sinusoidal_pos_embds'),
    });
  const id2label = parseLabelNames(json, at);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) if (!KNOWN.has(k)) extra[k] = v;
  return {
    vocabSize: int('vocab_size', 1),
    hiddenSize,
    numHiddenLayers: int('n_layers', 0),
    numAttentionHeads,
    intermediateSize: int('hidden_dim', 1),
    maxPositionEmbeddings: int('max_position_embeddings', 1),
    sinusoidalPosEmbds: sin,
    hiddenAct,
    dropout: prob('dropout'),
    attentionDropout: prob('attention_dropout'),
    seqClassifDropout: prob('seq_classif_dropout'),
    initializerRange: Number(get('initializer_range')),
    padTokenId: int('pad_token_id', 0),
    layerNormEps: 1e-12,
    numLabels: id2label.length,
    id2label,
    extra,
  };
}

/** The Hugging Face `config.json` object of a DistilBERT config. */
export function distilBertConfigToHf(c: DistilBertConfig): Record<string, unknown> {
  return {
    architectures: ['DistilBertForSequenceClassification'],
    model_type: 'distilbert',
    ...c.extra,
    vocab_size: c.vocabSize,
    dim: c.hiddenSize,
    n_layers: c.numHiddenLayers,
    n_heads: c.numAttentionHeads,
    hidden_dim: c.intermediateSize,
    activation: c.hiddenAct,
    max_position_embeddings: c.maxPositionEmbeddings,
    sinusoidal_pos_embds: c.sinusoidalPosEmbds,
    dropout: c.dropout,
    attention_dropout: c.attentionDropout,
    seq_classif_dropout: c.seqClassifDropout,
    initializer_range: c.initializerRange,
    pad_token_id: c.padTokenId,
    id2label: Object.fromEntries(c.id2label.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(c.id2label.map((l, i) => [l, i])),
  };
}

/** Build a DistilBERT config from partial fields (HF defaults for the rest), validated. */
export function distilBertConfig(
  fields: Partial<Omit<DistilBertConfig, 'numLabels'>> & { numLabels?: number } = {},
): DistilBertConfig {
  const base = parseDistilBertConfig(
    { model_type: 'distilbert', num_labels: fields.numLabels ?? fields.id2label?.length ?? 2 },
    '<distilBertConfig>',
  );
  const { numLabels: _n, ...rest } = fields;
  const merged: DistilBertConfig = { ...base, ...rest, extra: { ...base.extra, ...fields.extra } };
  if (fields.id2label) merged.numLabels = fields.id2label.length;
  return parseDistilBertConfig(distilBertConfigToHf(merged), '<distilBertConfig>');
}

/**
 * DistilBERT's recipe for a student of a BERT teacher: the teacher's vocabulary, widths, positions and labels,
 * `numHiddenLayers` layers (default half the teacher's). Token types are dropped (DistilBERT has none).
 */
export function distilBertConfigFromBert(t: BertConfig, opts: { numHiddenLayers?: number } = {}): DistilBertConfig {
  const extra: Record<string, unknown> = {};
  if (t.extra.problem_type !== undefined) extra.problem_type = t.extra.problem_type;
  return distilBertConfig({
    vocabSize: t.vocabSize,
    hiddenSize: t.hiddenSize,
    numHiddenLayers: opts.numHiddenLayers ?? Math.max(1, Math.floor(t.numHiddenLayers / 2)),
    numAttentionHeads: t.numAttentionHeads,
    intermediateSize: t.intermediateSize,
    maxPositionEmbeddings: t.maxPositionEmbeddings,
    hiddenAct: t.hiddenAct,
    dropout: t.hiddenDropoutProb,
    attentionDropout: t.attentionProbsDropoutProb,
    initializerRange: t.initializerRange,
    padTokenId: t.padTokenId,
    id2label: [...t.id2label],
    extra,
  });
}
