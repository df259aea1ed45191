/**
 * `BertConfig`: the Hugging Face `config.json` of a BERT model, parsed and validated.
 * @packageDocumentation
 */
import { DistilleryError, suggest } from '@distillery/core';
import { parseLabelNames } from '../hf/labels.js';

/** Activation functions of the feed-forward block. */
export type HiddenAct = 'gelu' | 'gelu_new' | 'relu';

const ACTS: Record<string, HiddenAct> = {
  gelu: 'gelu',
  gelu_python: 'gelu', // exact erf GELU
  gelu_new: 'gelu_new',
  gelu_pytorch_tanh: 'gelu_new',
  gelu_fast: 'gelu_new', // tanh approximation
  relu: 'relu',
};

/** A validated BERT configuration (camelCase of the Hugging Face fields). */
export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenAct: HiddenAct;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  /** Dropout before the classifier; HF uses `hidden_dropout_prob` when null. */
  classifierDropout: number | null;
  initializerRange: number;
  padTokenId: number;
  numLabels: number;
  /** Label names by id (`id2label`); `LABEL_i` when the config has none. */
  id2label: string[];
  /** Other fields of config.json, kept so a save writes them back (architectures, problem_type…). */
  extra: Record<string, unknown>;
}

const KNOWN = new Set([
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'max_position_embeddings',
  'type_vocab_size',
  'layer_norm_eps',
  'hidden_act',
  'hidden_dropout_prob',
  'attention_probs_dropout_prob',
  'classifier_dropout',
  'initializer_range',
  'pad_token_id',
  'num_labels',
  'id2label',
  'label2id',
]);

/** `model_type`s with BERT's architecture (RoBERTa-style models differ only in names, positions and head). */
export const BERT_LIKE: readonly string[] = ['bert', 'roberta', 'xlm-roberta', 'camembert'];

/** Weight-name family of a BERT-architecture config: `bert` or `roberta` (RoBERTa, XLM-R, CamemBERT). */
export function bertFamily(c: BertConfig): 'bert' | 'roberta' {
  const t = c.extra.model_type;
  return t === 'roberta' || t === 'xlm-roberta' || t === 'camembert' ? 'roberta' : 'bert';
}

/** HF defaults (bert-base-uncased) for fields a config may omit. */
const DEFAULTS = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  classifier_dropout: null,
  initializer_range: 0.02,
  pad_token_id: 0,
} as const;

/**
 * Parse and validate a Hugging Face BERT `config.json` object. Errors name the field (and `where`, usually the file).
 */
export function parseBertConfig(json: Record<string, unknown>, where = 'config.json'): BertConfig {
  const at = (field: string) => `${where}: ${field}`;
  const int = (k: keyof typeof DEFAULTS, min: number): number => {
    const v = json[k] ?? DEFAULTS[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new DistilleryError('CONFIG_INVALID', `must be an integer >= ${min}, got ${JSON.stringify(v)}`, {
        where: at(k),
      });
    }
    return v;
  };
  const prob = (k: keyof typeof DEFAULTS): number => {
    const v = json[k] ?? DEFAULTS[k];
    if (typeof v !== 'number' || v < 0 || v >= 1)
      throw new DistilleryError('CONFIG_INVALID', `must be a probability in [0, 1), got ${JSON.stringify(v)}`, {
        where: at(k),
      });
    return v;
  };
  if (json.model_type !== undefined && !BERT_LIKE.includes(json.model_type as string)) {
    throw new DistilleryError(
      'CONFIG_INVALID',
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a config.json value of any JSON type, quoted as given in the error
      `model_type "${String(json.model_type)}" is not a BERT-architecture model`,
      {
        where: at('model_type'),
        hint: `this parser reads ${BERT_LIKE.join(', ')}; load DistilBERT folders with loadHfModel()`,
      },
    );
  }
  const hiddenSize = int('hidden_size', 1);
  const numAttentionHeads = int('num_attention_heads', 1);
  if (hiddenSize % numAttentionHeads !== 0) {
    throw new DistilleryError(
      'CONFIG_INVALID',
      `hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numAttentionHeads}`,
      { where: at('num_attention_heads') },
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a config.json value of any JSON type; an unknown one is reported below
  const actName = String(json.hidden_act ?? DEFAULTS.hidden_act);
  const hiddenAct = ACTS[actName];
  if (!hiddenAct)
    throw new DistilleryError('CONFIG_INVALID', `unsupported hidden_act "${actName}"`, {
      where: at('hidden_act'),
      hint: suggest(actName, Object.keys(ACTS)),
    });
  const pet = json.position_embedding_type;
  if (pet !== undefined && pet !== 'absolute') {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a config.json value of any JSON type, quoted as given in the error
    throw new DistilleryError('CONFIG_INVALID', `position_embedding_type "${String(pet)}" is not supported`, {
      where: at('position_embedding_type'),
      hint: 'only "absolute" positions are implemented',
    });
  }
  const eps = json.layer_norm_eps ?? DEFAULTS.layer_norm_eps;
  if (typeof eps !== 'number' || !(eps > 0))
    throw new DistilleryError('CONFIG_INVALID', `must be a positive number, got ${JSON.stringify(eps)}`, {
      where: at('layer_norm_eps'),
    });
  const cd = json.classifier_dropout ?? null;
  if (cd !== null && (typeof cd !== 'number' || cd < 0 || cd >= 1))
    throw new DistilleryError('CONFIG_INVALID', `must be null or a probability, got ${JSON.stringify(cd)}`, {
      where: at('classifier_dropout'),
    });
  const id2label = parseLabelNames(json, at);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) if (!KNOWN.has(k)) extra[k] = v;
  return {
    vocabSize: int('vocab_size', 1),
    hiddenSize,
    numHiddenLayers: int('num_hidden_layers', 0),
    numAttentionHeads,
    intermediateSize: int('intermediate_size', 1),
    maxPositionEmbeddings: int('max_position_embeddings', 1),
    typeVocabSize: int('type_vocab_size', 1),
    layerNormEps: eps,
    hiddenAct,
    hiddenDropoutProb: prob('hidden_dropout_prob'),
    attentionProbsDropoutProb: prob('attention_probs_dropout_prob'),
    classifierDropout: cd,
    initializerRange: Number(json.initializer_range ?? DEFAULTS.initializer_range),
    padTokenId: int('pad_token_id', 0),
    numLabels: id2label.length,
    id2label,
    extra,
  };
}

/** Build a config from partial fields (tests, students from scratch): HF defaults for the rest. */
export function bertConfig(
  fields: Partial<Omit<BertConfig, 'id2label' | 'numLabels' | 'extra'>> & {
    id2label?: string[];
    numLabels?: number;
    extra?: Record<string, unknown>;
  } = {},
): BertConfig {
  const { id2label, numLabels, extra, ...rest } = fields;
  const base = parseBertConfig(
    {
      model_type: 'bert',
      ...(id2label
        ? { id2label: Object.fromEntries(id2label.map((l, i) => [String(i), l])) }
        : { num_labels: numLabels ?? 2 }),
    },
    '<bertConfig>',
  );
  const cfg: BertConfig = { ...base, ...rest, extra: { ...base.extra, ...extra } };
  // Re-validate the merged config through the HF form so bad values get the same errors.
  return parseBertConfig(bertConfigToHf(cfg), '<bertConfig>');
}

/** The Hugging Face `config.json` object for a config (snake_case; label maps; extra fields kept). */
export function bertConfigToHf(c: BertConfig): Record<string, unknown> {
  return {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    ...c.extra,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    intermediate_size: c.intermediateSize,
    hidden_act: c.hiddenAct,
    hidden_dropout_prob: c.hiddenDropoutProb,
    attention_probs_dropout_prob: c.attentionProbsDropoutProb,
    max_position_embeddings: c.maxPositionEmbeddings,
    type_vocab_size: c.typeVocabSize,
    initializer_range: c.initializerRange,
    layer_norm_eps: c.layerNormEps,
    pad_token_id: c.padTokenId,
    classifier_dropout: c.classifierDropout,
    id2label: Object.fromEntries(c.id2label.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(c.id2label.map((l, i) => [l, i])),
  };
}
