/**
 * Checkpoint folders: `checkpoint-<step>/` holding
 * - `model.safetensors`: the student's parameters under its own (Hugging Face) names;
 * - `projections.safetensors`: trainable projections, `distillery.projections.<match>.<weight|bias>`,
 *   with each match's `{layerT, layerS, feature, proj}` recorded in the header metadata;
 * - `optimizer.safetensors`: Adam/AdamW moments `m.<param>` / `v.<param>`, step count in the header;
 * - `state.json`: everything else the run needs to continue exactly (see {@link CheckpointState}).
 *
 * A folder is written under a temporary name and renamed into place as the last act, so a crash
 * at any moment leaves every earlier checkpoint intact and never a partial `checkpoint-<step>`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, writeSafetensorsStreaming, writeFileAtomic, type SafetensorsSource } from '../io/index.js';
import { nonFiniteAt, nonFiniteError } from '../loop/guard.js';
import { DistilleryError } from '../util/errors.js';
import type { CheckpointState } from './state.js';

const NAME = /^checkpoint-(\d+)$/;

/** Folder name of the checkpoint of `globalStep`. */
export function checkpointName(globalStep: number): string {
  return `checkpoint-${globalStep}`;
}

/** What goes into a checkpoint folder. */
export interface CheckpointContents {
  model: ReadonlyMap<string, tf.Tensor>;
  projections: ReadonlyMap<string, tf.Tensor>;
  /** Metadata of projections.safetensors (e.g. `match.0` → JSON of the match). */
  projectionMeta?: Record<string, string>;
  optimizer: { step: number; tensors: Record<string, tf.Tensor> };
  state: CheckpointState;
}

/** Elements per chunk when a large tensor is read back (4 MB of float32). */
const CHUNK_ELEMENTS = 1 << 20;

/** A tensor's values, a few rows at a time: a copy of the whole of a BERT-base word embedding (94 MB) never exists. */
async function* chunksOf(t: tf.Tensor): AsyncGenerator<Float32Array> {
  const rows = t.shape[0] ?? 1;
  const rowSize = t.size / Math.max(1, rows);
  const step = Math.max(1, Math.floor(CHUNK_ELEMENTS / rowSize));
  for (let r = 0; r < rows; r += step) {
    const part = tf.slice(t, [r, ...t.shape.slice(1).map(() => 0)], [Math.min(step, rows - r), ...t.shape.slice(1)]);
    try {
      yield (await part.data()) as Float32Array;
    } finally {
      part.dispose();
    }
  }
}

/** Tensors as streaming sources: each is read back from the backend only when the writer reaches it. */
function sourcesOf(m: Iterable<[string, tf.Tensor]>): Record<string, SafetensorsSource> {
  const out: Record<string, SafetensorsSource> = {};
  for (const [name, t] of m)
    out[name] = {
      shape: t.shape,
      read: () => (t.size > CHUNK_ELEMENTS && t.rank > 0 ? chunksOf(t) : (t.data() as Promise<Float32Array>)),
    };
  return out;
}

/** Write `dir/checkpoint-<step>/` atomically (temp folder + rename); returns its path. */
export async function writeCheckpointFolder(dir: string, c: CheckpointContents): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const step = c.state.globalStep;
  const final = join(dir, checkpointName(step));
  const tmp = join(dir, `.${checkpointName(step)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  mkdirSync(tmp);
  try {
    const meta = { format: 'pt', global_step: String(step), writer: 'distillery' };
    // One tensor in memory at a time (a BERT-base student's moments alone are 0.5 GB). A diverged model is never
    // checkpointed (the guard stops the run first; this is the last line): every tensor is checked as it passes.
    const bad: string[] = [];
    const flagged = new Set<string>();
    const check = (name: string, data: Float32Array | Int32Array, offset: number) => {
      if (flagged.has(name)) return; // the first bad value of a tensor is enough
      const b = nonFiniteAt(name, data, offset);
      if (b) {
        flagged.add(name);
        bad.push(b);
      }
    };
    await writeSafetensorsStreaming(join(tmp, 'model.safetensors'), sourcesOf(c.model), meta, { check });
    await writeSafetensorsStreaming(
      join(tmp, 'projections.safetensors'),
      sourcesOf(c.projections),
      { ...meta, ...c.projectionMeta },
      { check },
    );
    const diverged = nonFiniteError(
      bad,
      `refusing to write checkpoint ${final}`,
      'the run diverged: lower training.optimizer.lr or set training.maxGradNorm',
    );
    if (diverged) throw diverged;
    await writeSafetensorsStreaming(
      join(tmp, 'optimizer.safetensors'),
      sourcesOf(Object.entries(c.optimizer.tensors)),
      { ...meta, optimizer_step: String(c.optimizer.step) },
    );
    await writeFileAtomic(join(tmp, 'state.json'), JSON.stringify(c.state, null, 2) + '\n');
    // A folder of the same step from an abandoned timeline (resumed from an earlier one) is replaced.
    if (existsSync(final)) {
      const old = `${tmp}.old`;
      renameSync(final, old);
      renameSync(tmp, final);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, final);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (err instanceof DistilleryError) throw err;
    throw new DistilleryError('IO_WRITE_FAILED', `could not write checkpoint: ${(err as Error).message}`, {
      where: final,
      cause: err,
    });
  }
  return final;
}

/** A checkpoint folder read back. */
export interface LoadedCheckpoint {
  path: string;
  model: Map<string, { data: Float32Array; shape: number[] }>;
  projections: Map<string, { data: Float32Array; shape: number[] }>;
  projectionMeta: Record<string, string>;
  optimizer: { step: number; tensors: Map<string, { data: Float32Array; shape: number[] }> };
  state: CheckpointState;
}

/** Read a checkpoint folder; errors name the folder and the missing file. */
export async function readCheckpointFolder(path: string): Promise<LoadedCheckpoint> {
  const need = (f: string) => {
    const p = join(path, f);
    if (!existsSync(p))
      throw new DistilleryError('CHECKPOINT_INCOMPLETE', `"${f}" is missing`, {
        where: path,
        hint: 'pass a checkpoint-<step> folder written by distillery (or --resume without a path for the newest complete one)',
      });
    return p;
  };
  const state = JSON.parse(readFileSync(need('state.json'), 'utf8')) as CheckpointState;
  const asArrays = (m: Map<string, { data: Float32Array | Int32Array | Uint8Array; shape: number[] }>) =>
    new Map([...m].map(([k, t]) => [k, { data: t.data as Float32Array, shape: [...t.shape] }]));
  const model = await readSafetensors(need('model.safetensors'));
  const proj = await readSafetensors(need('projections.safetensors'));
  const opt = await readSafetensors(need('optimizer.safetensors'));
  return {
    path: resolve(path),
    model: asArrays(model.tensors),
    projections: asArrays(proj.tensors),
    projectionMeta: proj.metadata,
    optimizer: { step: Number(opt.metadata.optimizer_step ?? 0), tensors: asArrays(opt.tensors) },
    state,
  };
}

/** Complete checkpoint folders in `dir` (names), ordered by step. Temp folders are not listed. */
export function listCheckpoints(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => NAME.test(n) && existsSync(join(dir, n, 'state.json')))
    .sort((a, b) => stepOf(a) - stepOf(b));
}

/** Global step of a checkpoint folder name. */
export function stepOf(name: string): number {
  return Number(NAME.exec(name.split(/[\\/]/).filter(Boolean).pop() ?? '')?.[1] ?? NaN);
}

/** The newest complete checkpoint in `dir`, or undefined. */
export function newestCheckpoint(dir: string): string | undefined {
  const n = listCheckpoints(dir).at(-1);
  return n ? join(dir, n) : undefined;
}

/** Remove leftovers of interrupted writes (`.checkpoint-*.tmp` folders). */
export function removeTempCheckpoints(dir: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names)
    if (/^\.checkpoint-\d+\..*\.tmp(\.old)?$/.test(n)) rmSync(join(dir, n), { recursive: true, force: true });
}

/**
 * Keep the newest `limit` checkpoints, plus every folder in `keep` (the best one); delete the rest.
 * Returns the deleted names.
 */
export function pruneCheckpoints(dir: string, limit: number, keep: ReadonlySet<string>): string[] {
  const all = listCheckpoints(dir);
  const keepAbs = new Set([...keep].map((k) => resolve(k)));
  const removable = all.slice(0, Math.max(0, all.length - limit)).filter((n) => !keepAbs.has(resolve(join(dir, n))));
  for (const n of removable) rmSync(join(dir, n), { recursive: true, force: true });
  return removable;
}
