/**
 * Legacy single-file checkpoints (the loop now writes checkpoint folders, see folder.ts), and
 * {@link loadCheckpoint}, which reads both. Single file: every trainable parameter (student + projections) by name in one safetensors file
 * `gs<global_step>.safetensors`, written atomically (temp file, fsync, rename) so a crash never
 * leaves a truncated checkpoint. Student parameters keep their model names (Hugging Face names for
 * BERT), so a checkpoint loads into PyTorch/HF unchanged; projections are stored under
 * `distillery.projections.*` (HF ignores unexpected keys).
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, writeSafetensors, type SafetensorsInput } from '../io/index.js';
import { DistilleryError } from '../util/errors.js';
import { assertFiniteArrays } from '../loop/guard.js';
import { readCheckpointFolder } from './folder.js';

/** Parameters (student + projections) of a checkpoint folder into `params`; optimizer state is not touched. */
async function loadCheckpointFolder(
  path: string,
  params: ReadonlyMap<string, tf.Variable>,
  opts: { strict?: boolean },
): Promise<{ globalStep: number }> {
  const ck = await readCheckpointFolder(path);
  const all = new Map([...ck.model, ...ck.projections]);
  for (const [name, v] of params) {
    const t = all.get(name);
    if (!t) {
      throw new DistilleryError('CHECKPOINT_MISMATCH', `parameter "${name}" is missing from the checkpoint`, {
        where: path,
        hint: "the checkpoint is of another model; or it was written by an earlier Distillery build in a stage that froze this parameter and holds only the trained ones: load that stage's student.safetensors (the full student) instead",
      });
    }
    if (!tf.util.arraysEqual(t.shape, v.shape)) {
      throw new DistilleryError(
        'CHECKPOINT_MISMATCH',
        `parameter "${name}" has shape [${t.shape.join(',')}] in the checkpoint but [${v.shape.join(',')}] in the model`,
        { where: path },
      );
    }
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
  if (opts.strict) {
    const extra = [...all.keys()].filter((k) => !params.has(k));
    if (extra.length)
      throw new DistilleryError('CHECKPOINT_MISMATCH', `unexpected entries: ${extra.slice(0, 5).join(', ')}`, {
        where: path,
      });
  }
  return { globalStep: ck.state.globalStep };
}

/** Path of the checkpoint of `globalStep` in `dir`. */
export function checkpointPath(dir: string, globalStep: number): string {
  return join(dir, `gs${globalStep}.safetensors`);
}

/** Write all `params` to `dir/gs<step>.safetensors` atomically; returns the path. */
export async function writeCheckpoint(
  dir: string,
  globalStep: number,
  params: ReadonlyMap<string, tf.Tensor>,
  meta: Record<string, string | number> = {},
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [name, t] of params) tensors[name] = { data: (await t.data()) as Float32Array, shape: t.shape };
  // Never checkpoint a diverged model: the values are read here anyway, so the check is a scan.
  assertFiniteArrays(
    Object.entries(tensors).map(([k, v]) => [k, v.data as Float32Array]),
    `refusing to write checkpoint ${checkpointPath(dir, globalStep)}`,
    'the run diverged: lower training.optimizer.lr or set training.maxGradNorm',
  );
  const metadata: Record<string, string> = { format: 'pt', global_step: String(globalStep), writer: 'distillery' };
  for (const [k, v] of Object.entries(meta)) metadata[k] = String(v);
  const path = checkpointPath(dir, globalStep);
  await writeSafetensors(path, tensors, metadata);
  return path;
}

/**
 * Load a checkpoint into `params` (assigning by name). Every parameter must be present with the
 * same shape; extra entries in the file are ignored unless `strict`.
 */
export async function loadCheckpoint(
  path: string,
  params: ReadonlyMap<string, tf.Variable>,
  opts: { strict?: boolean } = {},
): Promise<{ globalStep: number }> {
  if (statSync(path).isDirectory()) return loadCheckpointFolder(path, params, opts);
  const file = await readSafetensors(path);
  for (const [name, v] of params) {
    const t = file.tensors.get(name);
    if (!t)
      throw new DistilleryError('CHECKPOINT_MISMATCH', `parameter "${name}" is missing from the checkpoint`, {
        where: path,
      });
    if (!tf.util.arraysEqual(t.shape, v.shape)) {
      throw new DistilleryError(
        'CHECKPOINT_MISMATCH',
        `parameter "${name}" has shape [${t.shape.join(',')}] in the file but [${v.shape.join(',')}] in the model`,
        { where: path },
      );
    }
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
  if (opts.strict) {
    const extra = [...file.tensors.keys()].filter((k) => !params.has(k));
    if (extra.length)
      throw new DistilleryError('CHECKPOINT_MISMATCH', `unexpected entries: ${extra.slice(0, 5).join(', ')}`, {
        where: path,
      });
  }
  return { globalStep: Number(file.metadata.global_step ?? 0) };
}

/** Legacy single-file checkpoints (`gs<step>.safetensors`) in `dir`, ordered by step. */
export function listCheckpointFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^gs\d+\.safetensors$/.test(n))
    .sort((a, b) => Number(a.slice(2).split('.')[0]) - Number(b.slice(2).split('.')[0]));
}
