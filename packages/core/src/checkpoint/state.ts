/**
 * `state.json` of a checkpoint folder, and the config hash that guards a resume: a resumed run
 * with a different config is refused with the changed fields named (unless forced).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { BestInfo } from '../loop/types.js';

/** Position in the loop plan: the checkpoint is taken right after this optimizer step. */
export interface DataCursor {
  /** Epoch of the last forwarded batch. */
  epoch: number;
  /** Forward batches run so far (the plan's counter of the last one + 1). */
  batchesSeen: number;
  /** Index of the next batch inside its epoch (batchesSeen mod batches per epoch, in steps mode). */
  nextDataIndex: number;
  /** Batches per epoch. */
  batchesPerEpoch: number;
  /** How the epoch's order is made (`BatchSource.describe()`); epoch e's shuffle is a function of it and e. */
  source?: unknown;
}

/** Everything besides tensors that a run needs to continue exactly. */
export interface CheckpointState {
  format: 'distillery-checkpoint/1';
  distilleryVersion: string;
  globalStep: number;
  totalSteps: number;
  mode: 'epochs' | 'steps';
  epoch: number;
  cursor: DataCursor;
  /** Dropout and other unseeded tfjs randomness: `Math.random` is reseeded per batch from (seed, batch counter). */
  rng: { kind: 'per-batch-mulberry32'; seed: number; nextCounter: number };
  lrSchedule: { config: unknown; position: number; factor: number };
  /** Weight-scheduler values at this step (they are functions of the step; recorded for inspection). */
  schedulers: Record<string, number>;
  optimizer: { type: string; step: number };
  loss: number;
  losses: Record<string, number>;
  metrics?: Record<string, number>;
  best?: BestInfo;
  /**
   * Student parameters that were frozen (not trained) in this run. They are saved in model.safetensors all
   * the same, so the checkpoint is the whole student whatever was frozen; absent when nothing was.
   */
  frozen?: string[];
  /** State of stateful hooks by name (early stopping's patience counter, …). */
  hooks: Record<string, unknown>;
  configHash: string;
  /** The config itself, to name the fields that changed. */
  config: unknown;
  time: string;
}

const require = createRequire(import.meta.url);

/** This package's version (written into checkpoints). */
export function distilleryVersion(): string {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Keys that may change between a run and its resume without changing the result. */
const IGNORED = new Set(['outputDir', 'logDir', 'backend', 'device', '$schema']);

/** The config as hashed: ignored keys dropped, object keys sorted. */
export function canonicalConfig(config: unknown): unknown {
  if (Array.isArray(config)) return config.map(canonicalConfig);
  if (config && typeof config === 'object') {
    const o = config as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => !IGNORED.has(k) && o[k] !== undefined)
        .sort()
        .map((k) => [k, canonicalConfig(o[k])]),
    );
  }
  return config;
}

/** sha256 of the canonical config. */
export function configHash(config: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonicalConfig(config)))
    .digest('hex');
}

/** Dotted paths whose values differ between two configs (after canonicalisation). */
export function configDiff(a: unknown, b: unknown, path = ''): string[] {
  const ca = canonicalConfig(a);
  const cb = canonicalConfig(b);
  if (JSON.stringify(ca) === JSON.stringify(cb)) return [];
  const isObj = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (!isObj(ca) || !isObj(cb)) return [`${path || '(root)'}: ${JSON.stringify(ca)} → ${JSON.stringify(cb)}`];
  const oa = ca as Record<string, unknown>;
  const ob = cb as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(oa), ...Object.keys(ob)])].sort();
  return keys.flatMap((k) => configDiff(oa[k], ob[k], path ? `${path}.${k}` : k));
}
