/**
 * Loading and saving whole Hugging Face model folders, so PyTorch/`transformers` read what we save
 * and we read what they save (config.json, model.safetensors, tokenizer files).
 * @packageDocumentation
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DistilleryError, writeFileAtomic, writeSafetensors, type SafetensorsInput } from '@distillery/core';
import { BERT_LIKE, bertFamily, parseBertConfig } from './bert.config.js';
import {
  RobertaForSequenceClassification,
  RobertaForTokenClassification,
  RobertaModel,
} from '../roberta/roberta.model.js';
import {
  BertForSequenceClassification,
  BertForTokenClassification,
  BertModel,
  type BertModelOptions,
} from './bert.model.js';
import { BertForMaskedLM } from './mlm.model.js';
import { readHfWeights, type PretrainedOptions } from './hf.files.js';
import type { BertHead } from './weights.js';
import { readConfigJson } from '../hf/checkpoint.js';
import type { EncoderModel } from '../hf/encoder.types.js';
import { loadDistilBert } from '../distilbert/distilbert.io.js';

/** Tokenizer files copied or written by {@link saveHfModel}. */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.txt',
  'special_tokens_map.json',
] as const;

/** Options of {@link loadHfModel}. */
export interface LoadHfModelOptions extends BertModelOptions, PretrainedOptions {
  /** Head to build; default from `architectures` in config.json (sequence classification if absent). */
  head?: BertHead;
}

/** The head named by `architectures[0]` (`…ForTokenClassification` → token, `…ForMaskedLM` → mlm, `…Model` → none, else sequence). */
export function headFromArchitecture(arch: string | undefined): BertHead {
  if (!arch) return 'sequence';
  if (arch.endsWith('ForTokenClassification')) return 'token';
  if (arch.endsWith('ForMaskedLM')) return 'mlm';
  // Bare encoders, and pre-training checkpoints (MLM + NSP) whose heads we ignore as transformers does.
  if (arch.endsWith('Model') || arch.endsWith('ForPreTraining')) return 'none';
  return 'sequence';
}

/** `model_type`s {@link loadHfModel} reads. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = [...BERT_LIKE, 'distilbert'];

/**
 * Load a Hugging Face folder into the model class of its family (AutoModel-like): `model_type` picks BERT,
 * RoBERTa (also XLM-R, CamemBERT) or DistilBERT; `architectures` (or `opts.head`) picks the head.
 */
export async function loadHfModel(dir: string, opts: LoadHfModelOptions = {}): Promise<EncoderModel> {
  const json = readConfigJson(dir);
  const where = join(dir, 'config.json');
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a config.json value of any JSON type; an unknown one is reported below
  const type = json.model_type === undefined ? 'bert' : String(json.model_type);
  if (!SUPPORTED_MODEL_TYPES.includes(type)) {
    throw new DistilleryError('MODEL_UNSUPPORTED', `model_type "${type}" is not supported`, {
      where: `${where}: model_type`,
      hint: `supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    });
  }
  const arch = Array.isArray(json.architectures) ? String(json.architectures[0]) : undefined;
  const head: BertHead = opts.head ?? headFromArchitecture(arch);
  if (type === 'distilbert') return loadDistilBert(dir, head, opts);
  const config = parseBertConfig(json, where);
  const weights = await readHfWeights(dir, config, head, opts);
  if (bertFamily(config) === 'roberta') {
    if (head === 'sequence') return new RobertaForSequenceClassification(config, opts, weights);
    if (head === 'token') return new RobertaForTokenClassification(config, opts, weights);
    if (head === 'mlm') return new BertForMaskedLM(config, opts, weights);
    return new RobertaModel(config, opts, weights);
  }
  if (head === 'mlm') return new BertForMaskedLM(config, opts, weights);
  if (head === 'sequence') return new BertForSequenceClassification(config, opts, weights);
  if (head === 'token') return new BertForTokenClassification(config, opts, weights);
  return new BertModel(config, opts, weights);
}

/** Options of {@link saveHfModel}. */
export interface SaveHfModelOptions {
  /** Copy the tokenizer files found in this folder (e.g. the teacher's). */
  copyTokenizerFrom?: string;
  /** Tokenizer files to write, by file name (e.g. `wordPieceTokenizerFiles(tok)` from @distillery/data). */
  tokenizerFiles?: Readonly<Record<string, string | Uint8Array>>;
  /** Extra `__metadata__` entries for the safetensors header (`format: pt` is always set). */
  metadata?: Readonly<Record<string, string>>;
}

/**
 * Save a model as a Hugging Face folder: `config.json`, `model.safetensors` (F32, HF names, PyTorch
 * `[out, in]` shapes, `format: pt`) and tokenizer files. Each file is written atomically.
 */
export async function saveHfModel(model: EncoderModel, dir: string, opts: SaveHfModelOptions = {}): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new DistilleryError('IO_WRITE_FAILED', `cannot create folder: ${(err as Error).message}`, {
      where: dir,
      cause: err,
    });
  }
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [name, t] of Object.entries(model.weights())) {
    tensors[name] = { data: (await t.data()) as Float32Array, shape: t.shape, dtype: 'F32' };
  }
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt', ...opts.metadata });
  const hf = model.hfConfig();
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(hf, null, 2) + '\n');
  if (opts.copyTokenizerFrom) {
    let copied = 0;
    for (const f of TOKENIZER_FILES) {
      const src = join(opts.copyTokenizerFrom, f);
      if (existsSync(src)) {
        copyFileSync(src, join(dir, f));
        copied++;
      }
    }
    if (!copied)
      throw new DistilleryError('TOKENIZER_MISSING', 'no tokenizer files to copy', {
        where: opts.copyTokenizerFrom,
        hint: `expected one of ${TOKENIZER_FILES.join(', ')}`,
      });
  }
  for (const [name, content] of Object.entries(opts.tokenizerFiles ?? {}))
    await writeFileAtomic(join(dir, name), content);
}

/** Weights of a model as plain arrays (for comparisons and custom serialisation). */
export function weightsToArrays(model: EncoderModel): Record<string, { data: Float32Array; shape: number[] }> {
  return Object.fromEntries(
    Object.entries(model.weights()).map(([k, t]) => [k, { data: t.dataSync() as Float32Array, shape: [...t.shape] }]),
  );
}
