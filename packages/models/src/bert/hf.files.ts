/**
 * Reading Hugging Face model folders: `config.json` and `model.safetensors` into HF-named tensors.
 * @packageDocumentation
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import { bertFamily, parseBertConfig, type BertConfig } from './bert.config.js';
import { readCheckpoint, readConfigJson } from '../hf/checkpoint.js';
import { bertWeightShapes, type BertHead } from './weights.js';

/** Options for loading pretrained weights. */
export interface PretrainedOptions {
  /** Randomly initialise weights missing from the file (e.g. a new classifier on a base model) instead of failing. */
  initMissing?: boolean;
  /**
   * Load weights holding NaN/Inf (to inspect a broken checkpoint). By default such a model is refused,
   * naming the tensor: it would make every loss NaN.
   * @default false
   */
  allowNonFinite?: boolean;
}

/** Read and validate `dir/config.json`. */
export function readHfConfig(dir: string): BertConfig {
  return parseBertConfig(readConfigJson(dir), join(dir, 'config.json'));
}

/** Old TF-converted names (`gamma`/`beta`) and bare-encoder names (no `bert.`/`roberta.` prefix) → current HF names. */
function canonicalName(name: string, family: string): string {
  let n = name.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
  if (/^(embeddings|encoder|pooler)\./.test(n)) n = `${family}.${n}`;
  return n;
}

/** Entries HF itself ignores when loading: buffers and pre-training heads. */
function ignorable(name: string): boolean {
  return name.endsWith('position_ids') || name.startsWith('cls.') || name.startsWith('lm_head.');
}

/**
 * Read `dir/model.safetensors` (or a sharded `model.safetensors.index.json` checkpoint) into tensors named and
 * shaped for a model with `head`.
 * Missing weights throw (unless `initMissing`, then they are left out for random init); shape
 * mismatches and unknown names always throw.
 */
export async function readHfWeights(
  dir: string,
  config: BertConfig,
  head: BertHead,
  opts: PretrainedOptions = {},
): Promise<Record<string, tf.Tensor>> {
  const file = await readCheckpoint(dir, { allowNonFinite: opts.allowNonFinite });
  const fam = bertFamily(config);
  const path =
    file.fileOf.size > 0 && new Set(file.fileOf.values()).size > 1
      ? join(dir, 'model.safetensors.index.json')
      : join(dir, 'model.safetensors');
  const expected = new Map(bertWeightShapes(config, head));
  const out: Record<string, tf.Tensor> = {};
  const unknown: string[] = [];
  try {
    for (const [raw, t] of file.tensors) {
      const name = canonicalName(raw, fam);
      const shape = expected.get(name);
      if (!shape) {
        // A pooler in a token-classification checkpoint is unused, as in HF.
        if (!ignorable(name) && !(head !== 'none' && name.startsWith(`${fam}.pooler.`))) unknown.push(raw);
        continue;
      }
      if (!tf.util.arraysEqual(t.shape, shape)) {
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `weight "${raw}" has shape [${t.shape.join(',')}], config.json implies [${shape.join(',')}]`,
          { where: path, hint: 'config.json and model.safetensors do not belong together' },
        );
      }
      if (!(t.data instanceof Float32Array))
        throw new DistilleryError('SAFETENSORS_INVALID', `weight "${raw}" is ${t.dtype}, expected a float type`, {
          where: path,
        });
      out[name] = tf.tensor(t.data, shape, 'float32');
    }
    if (unknown.length) {
      throw new DistilleryError(
        'UNEXPECTED_WEIGHTS',
        `${unknown.length} weight(s) do not belong to a ${fam === 'roberta' ? 'RoBERTa' : 'BERT'} ${head === 'none' ? 'encoder' : `${head} classifier`}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`,
        { where: path },
      );
    }
    const missing = [...expected.keys()].filter((n) => !(n in out));
    if (missing.length && !opts.initMissing) {
      throw new DistilleryError(
        'MISSING_WEIGHT',
        `${missing.length} weight(s) missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
        {
          where: path,
          hint: missing.every((m) => m.startsWith('classifier.'))
            ? 'a base model without a classifier: pass initMissing: true to initialise a new head'
            : undefined,
        },
      );
    }
  } catch (err) {
    for (const t of Object.values(out)) t.dispose();
    throw err;
  }
  return out;
}
