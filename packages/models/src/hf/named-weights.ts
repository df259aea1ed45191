/**
 * Matching a folder's checkpoint against the weights a model expects: renames, ignorable entries, shape
 * checks, missing and unknown names — with errors that name the file and the weights.
 * @packageDocumentation
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import { readCheckpoint } from './checkpoint.js';

/** How {@link loadNamedWeights} treats a checkpoint. */
export interface NamedWeightsOptions {
  /** Map a stored name to the model's name (old spellings, missing prefixes). */
  canonical?: (name: string) => string;
  /** Stored names to skip silently (buffers, pre-training heads, unused poolers). */
  ignore?: (name: string) => boolean;
  /** Leave missing weights out (the model initialises them) instead of failing. */
  initMissing?: boolean;
  /** What the model is, for messages ("a DistilBERT sequence classifier"). */
  what: string;
  /** Load NaN/Inf weights (for inspection) instead of refusing them. @default false */
  allowNonFinite?: boolean;
}

/** Read `dir`'s checkpoint into tensors named and shaped as `expected`. */
export async function loadNamedWeights(
  dir: string,
  expected: readonly [string, number[]][],
  opts: NamedWeightsOptions,
): Promise<Record<string, tf.Tensor>> {
  const { tensors, fileOf } = await readCheckpoint(dir, { allowNonFinite: opts.allowNonFinite });
  const shapes = new Map(expected);
  const out: Record<string, tf.Tensor> = {};
  const unknown: string[] = [];
  const where =
    new Set(fileOf.values()).size > 1 ? join(dir, 'model.safetensors.index.json') : join(dir, 'model.safetensors');
  try {
    for (const [raw, t] of tensors) {
      const name = opts.canonical ? opts.canonical(raw) : raw;
      const shape = shapes.get(name);
      if (!shape) {
        if (!opts.ignore?.(name)) unknown.push(raw);
        continue;
      }
      if (!tf.util.arraysEqual(t.shape, shape)) {
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `weight "${raw}" has shape [${t.shape.join(',')}], config.json implies [${shape.join(',')}]`,
          { where: fileOf.get(raw), hint: 'config.json and the weights do not belong together' },
        );
      }
      if (!(t.data instanceof Float32Array))
        throw new DistilleryError('SAFETENSORS_INVALID', `weight "${raw}" is ${t.dtype}, expected a float type`, {
          where: fileOf.get(raw),
        });
      out[name] = tf.tensor(t.data, shape, 'float32');
    }
    if (unknown.length) {
      throw new DistilleryError(
        'UNEXPECTED_WEIGHTS',
        `${unknown.length} weight(s) do not belong to ${opts.what}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`,
        { where, hint: 'check model_type and architectures in config.json' },
      );
    }
    const missing = expected.map(([n]) => n).filter((n) => !(n in out));
    if (missing.length && !opts.initMissing) {
      throw new DistilleryError(
        'MISSING_WEIGHT',
        `${missing.length} weight(s) missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
        {
          where,
          hint: missing.every((m) => m.startsWith('classifier.') || m.startsWith('pre_classifier.'))
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
