/**
 * Loading and saving whole Hugging Face model folders, so PyTorch/`transformers` read what we save
 * and we read what they save (config.json, model.safetensors, tokenizer files).
 * @packageDocumentation
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DistilleryError, writeFileAtomic, writeSafetensors, type SafetensorsInput } from '@distillery/core';
import { bertConfigToHf } from './bert.config.js';
import { BertBase, BertForSequenceClassification, BertForTokenClassification, BertModel, type BertModelOptions } from './bert.model.js';
import { readHfConfig, readHfWeights, type PretrainedOptions } from './hf.files.js';
import type { BertHead } from './weights.js';

const ARCH: Record<BertHead, string> = { none: 'BertModel', sequence: 'BertForSequenceClassification', token: 'BertForTokenClassification' };

/** Tokenizer files copied or written by {@link saveHfModel}. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json'] as const;

/** Options of {@link loadHfModel}. */
export interface LoadHfModelOptions extends BertModelOptions, PretrainedOptions {
  /** Head to build; default from `architectures` in config.json (sequence classification if absent). */
  head?: BertHead;
}

/** Load a Hugging Face BERT folder into the matching model class. */
export async function loadHfModel(dir: string, opts: LoadHfModelOptions = {}): Promise<BertBase> {
  const config = readHfConfig(dir);
  const arch = (config.extra.architectures as string[] | undefined)?.[0];
  const head: BertHead = opts.head ?? (arch === 'BertForTokenClassification' ? 'token' : arch === 'BertModel' ? 'none' : 'sequence');
  const weights = await readHfWeights(dir, config, head, opts);
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
export async function saveHfModel(model: BertBase, dir: string, opts: SaveHfModelOptions = {}): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new DistilleryError('IO_WRITE_FAILED', `cannot create folder: ${(err as Error).message}`, { where: dir, cause: err });
  }
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [name, t] of Object.entries(model.weights())) {
    tensors[name] = { data: (await t.data()) as Float32Array, shape: t.shape, dtype: 'F32' };
  }
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt', ...opts.metadata });
  const hf = { ...bertConfigToHf(model.config), architectures: [ARCH[model.head]], torch_dtype: 'float32' };
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
    if (!copied) throw new DistilleryError('TOKENIZER_MISSING', 'no tokenizer files to copy', { where: opts.copyTokenizerFrom, hint: `expected one of ${TOKENIZER_FILES.join(', ')}` });
  }
  for (const [name, content] of Object.entries(opts.tokenizerFiles ?? {})) await writeFileAtomic(join(dir, name), content);
}

/** Weights of a model as plain arrays (for comparisons and custom serialisation). */
export function weightsToArrays(model: BertBase): Record<string, { data: Float32Array; shape: number[] }> {
  return Object.fromEntries(Object.entries(model.weights()).map(([k, t]) => [k, { data: t.dataSync() as Float32Array, shape: [...t.shape] }]));
}
