/**
 * Reading Hugging Face model folders: `config.json` and `model.safetensors` into HF-named tensors.
 * @packageDocumentation
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, assertFiniteArrays, readSafetensors } from '@distillery/core';
import { parseBertConfig, type BertConfig } from './bert.config.js';
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
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new DistilleryError('MODEL_NOT_FOUND', 'no config.json', { where: dir, hint: 'point to a Hugging Face model folder (config.json + model.safetensors)' });
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new DistilleryError('CONFIG_INVALID', `invalid JSON: ${(err as Error).message}`, { where: path });
  }
  return parseBertConfig(json, path);
}

/** Old TF-converted names (`gamma`/`beta`) and bare-encoder names (no `bert.` prefix) → current HF names. */
function canonicalName(name: string): string {
  let n = name.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
  if (/^(embeddings|encoder|pooler)\./.test(n)) n = `bert.${n}`;
  return n;
}

/** Entries HF itself ignores when loading: buffers and pre-training heads. */
function ignorable(name: string): boolean {
  return name.endsWith('position_ids') || name.startsWith('cls.');
}

/**
 * Read `dir/model.safetensors` into tensors named and shaped for a model with `head`.
 * Missing weights throw (unless `initMissing`, then they are left out for random init); shape
 * mismatches and unknown names always throw.
 */
export async function readHfWeights(dir: string, config: BertConfig, head: BertHead, opts: PretrainedOptions = {}): Promise<Record<string, tf.Tensor>> {
  const path = join(dir, 'model.safetensors');
  if (!existsSync(path)) {
    const hint = existsSync(join(dir, 'pytorch_model.bin')) ? 'convert pytorch_model.bin to safetensors (safetensors.torch.save_file) first' : 'expected model.safetensors beside config.json';
    throw new DistilleryError('MODEL_NOT_FOUND', 'no model.safetensors', { where: dir, hint });
  }
  const file = await readSafetensors(path);
  if (!opts.allowNonFinite) {
    const floats = [...file.tensors].filter(([, t]) => t.data instanceof Float32Array || t.data instanceof Float64Array) as [string, { data: ArrayLike<number> }][];
    assertFiniteArrays(floats.map(([k, t]) => [k, t.data]), `${path}: refusing to load`, 'the checkpoint is broken (a diverged run?); pass allowNonFinite: true to load it for inspection');
  }
  const expected = new Map(bertWeightShapes(config, head));
  const out: Record<string, tf.Tensor> = {};
  const unknown: string[] = [];
  try {
    for (const [raw, t] of file.tensors) {
      const name = canonicalName(raw);
      const shape = expected.get(name);
      if (!shape) {
        // A pooler in a token-classification checkpoint is unused, as in HF.
        if (!ignorable(name) && !(head === 'token' && name.startsWith('bert.pooler.'))) unknown.push(raw);
        continue;
      }
      if (!tf.util.arraysEqual(t.shape, shape)) {
        throw new DistilleryError('SHAPE_MISMATCH', `weight "${raw}" has shape [${t.shape}], config.json implies [${shape}]`, { where: path, hint: 'config.json and model.safetensors do not belong together' });
      }
      if (!(t.data instanceof Float32Array)) throw new DistilleryError('SAFETENSORS_INVALID', `weight "${raw}" is ${t.dtype}, expected a float type`, { where: path });
      out[name] = tf.tensor(t.data, shape, 'float32');
    }
    if (unknown.length) {
      throw new DistilleryError('UNEXPECTED_WEIGHTS', `${unknown.length} weight(s) do not belong to a BERT ${head === 'none' ? 'encoder' : `${head} classifier`}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`, { where: path });
    }
    const missing = [...expected.keys()].filter((n) => !(n in out));
    if (missing.length && !opts.initMissing) {
      throw new DistilleryError('MISSING_WEIGHT', `${missing.length} weight(s) missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, {
        where: path,
        hint: missing.every((m) => m.startsWith('classifier.')) ? 'a base model without a classifier: pass initMissing: true to initialise a new head' : undefined,
      });
    }
  } catch (err) {
    for (const t of Object.values(out)) t.dispose();
    throw err;
  }
  return out;
}
