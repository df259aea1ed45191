/**
 * Saving the run into a checkpoint folder and restoring a run from one. What is saved is exactly
 * what {@link runLoop} needs to continue as if never stopped: parameters, optimizer moments and
 * step count, data cursor, RNG position, best/metrics and the hooks' own state.
 */
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingConfig } from '../config/schema.js';
import {
  checkpointName,
  listCheckpoints,
  pruneCheckpoints,
  readCheckpointFolder,
  removeTempCheckpoints,
  stepOf,
  writeCheckpointFolder,
  type LoadedCheckpoint,
} from '../checkpoint/folder.js';
import {
  configDiff,
  configHash,
  distilleryVersion,
  type CheckpointState,
  type DataCursor,
} from '../checkpoint/state.js';
import { lrFactor } from '../optim/lr-schedule.js';
import type { Optimizer } from '../optim/optimizer.js';
import { DistilleryError } from '../util/errors.js';
import type { Logger } from '../plugin/types.js';
import type { HookList } from './hook-list.js';
import type { TrainState } from './types.js';

/** What the checkpointer needs from the run. */
export interface CheckpointerOptions {
  tc: TrainingConfig;
  params: ReadonlyMap<string, tf.Variable>;
  /** Names in `params` that belong to the student (the rest go to projections.safetensors). */
  studentKeys: ReadonlySet<string>;
  /**
   * Every student parameter, frozen ones included. model.safetensors holds all of them, so a checkpoint
   * written while parameters were frozen (a stage of progressive distillation) is still the whole student
   * and loads into a trainer that freezes nothing, or into a fresh model. @default the student keys of `params`
   */
  studentParams?: ReadonlyMap<string, tf.Variable>;
  projectionMeta?: Record<string, string>;
  /** The config the run's hash is taken of. */
  config: unknown;
  /** Loss weights at a step (recorded in state.json). */
  weightsAt(globalStep: number): Record<string, number>;
  logger?: Logger;
}

export class Checkpointer {
  private lastSaved = -1;
  constructor(private readonly o: CheckpointerOptions) {}

  /** Write `checkpoint-<step>/` (once per step), prune old ones; returns the folder or undefined if already written. */
  async save(
    state: Readonly<TrainState>,
    optimizer: Optimizer,
    hooks: HookList,
    cursor: DataCursor,
  ): Promise<string | undefined> {
    if (this.lastSaved === state.globalStep) return undefined;
    const { tc, params, studentKeys } = this.o;
    const model = new Map(this.o.studentParams ?? [...params].filter(([k]) => studentKeys.has(k)));
    const frozen = [...model.keys()].filter((k) => !params.has(k));
    const projections = new Map([...params].filter(([k]) => !studentKeys.has(k)));
    const s: CheckpointState = {
      format: 'distillery-checkpoint/1',
      distilleryVersion: distilleryVersion(),
      globalStep: state.globalStep,
      totalSteps: state.totalSteps,
      mode: state.mode,
      epoch: state.epoch,
      cursor,
      rng: { kind: 'per-batch-mulberry32', seed: tc.seed, nextCounter: cursor.batchesSeen },
      lrSchedule: {
        config: tc.lrScheduler,
        position: optimizer.steps,
        factor: lrFactor(tc.lrScheduler, optimizer.steps, state.totalSteps),
      },
      schedulers: this.o.weightsAt(state.globalStep),
      optimizer: { type: tc.optimizer.type, step: optimizer.steps },
      loss: state.loss,
      losses: state.losses,
      ...(state.metrics ? { metrics: state.metrics } : {}),
      ...(state.best
        ? {
            best:
              state.best.step === state.globalStep
                ? { ...state.best, path: join(tc.outputDir, checkpointName(state.globalStep)) }
                : state.best,
          }
        : {}),
      ...(frozen.length ? { frozen } : {}),
      hooks: hooks.stateDict(),
      configHash: configHash(this.o.config),
      config: this.o.config,
      time: new Date().toISOString(),
    };
    const path = await writeCheckpointFolder(tc.outputDir, {
      model,
      projections,
      projectionMeta: this.o.projectionMeta,
      optimizer: optimizer.state(),
      state: s,
    });
    this.lastSaved = state.globalStep;
    if (tc.saveTotalLimit) {
      const keep = new Set(state.best?.step !== undefined ? [join(tc.outputDir, checkpointName(state.best.step))] : []);
      for (const n of pruneCheckpoints(tc.outputDir, tc.saveTotalLimit, keep))
        this.o.logger?.debug(`removed ${n} (saveTotalLimit ${tc.saveTotalLimit})`);
    }
    return path;
  }

  /**
   * Read a checkpoint, check its config against this run's (refused with the changed fields named
   * unless `force`), and restore parameters, optimizer and hook state. Returns the checkpoint.
   */
  async restore(
    path: string,
    optimizer: Optimizer,
    hooks: HookList,
    opts: { force?: boolean } = {},
  ): Promise<LoadedCheckpoint> {
    const ck = await readCheckpointFolder(path);
    const { params, studentKeys } = this.o;
    if (ck.state.configHash !== configHash(this.o.config)) {
      const diff = configDiff(ck.state.config, this.o.config);
      if (!opts.force) {
        throw new DistilleryError(
          'RESUME_CONFIG_CHANGED',
          `the config differs from the one the checkpoint was made with: ${diff.join('; ')}`,
          {
            where: path,
            hint: 'restore those fields, or resume anyway with --force (train({ resumeFrom, force: true }))',
          },
        );
      }
      this.o.logger?.warn(`resuming with a changed config (forced): ${diff.join('; ')}`);
    }
    for (const [name, v] of params) {
      const t = (studentKeys.has(name) ? ck.model : ck.projections).get(name);
      if (!t)
        throw new DistilleryError('CHECKPOINT_MISMATCH', `parameter "${name}" is missing from the checkpoint`, {
          where: path,
        });
      if (!tf.util.arraysEqual(t.shape, v.shape))
        throw new DistilleryError(
          'CHECKPOINT_MISMATCH',
          `parameter "${name}" has shape [${t.shape.join(',')}] in the checkpoint but [${v.shape.join(',')}] in the model`,
          { where: path },
        );
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
    }
    // Frozen student parameters are not trained here but are in the checkpoint: restore them too, so a resume
    // does not depend on where they came from (a previous stage's weights).
    for (const [name, v] of this.o.studentParams ?? []) {
      const t = ck.model.get(name);
      if (params.has(name) || !t || !tf.util.arraysEqual(t.shape, v.shape)) continue;
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
    }
    try {
      optimizer.loadState(ck.optimizer.step, ck.optimizer.tensors, params);
    } catch (e) {
      throw new DistilleryError('CHECKPOINT_MISMATCH', (e as Error).message, {
        where: join(path, 'optimizer.safetensors'),
      });
    }
    hooks.loadStateDict(ck.state.hooks ?? {});
    this.lastSaved = ck.state.globalStep;
    // Checkpoints past this one belong to the abandoned continuation: they would be rewritten anyway.
    const dir = this.o.tc.outputDir;
    removeTempCheckpoints(dir);
    for (const n of listCheckpoints(dir)) {
      if (resolve(dirname(ck.path)) === resolve(dir) && stepOf(n) > ck.state.globalStep) {
        rmSync(join(dir, n), { recursive: true, force: true });
        this.o.logger?.info(`removed ${n}: it lies after the resumed step ${ck.state.globalStep}`);
      }
    }
    return ck;
  }
}
