/**
 * The one observer contract of the training loop, shaped like Hugging Face's
 * `TrainerCallback(args, state, control)`: every hook receives the same {@link TrainState} and
 * {@link Control}. Progress, metrics.jsonl, events, evaluation, checkpointing, early stopping and
 * user callbacks are all hooks on one ordered list.
 */
import type { BatchEndInfo } from '../events/events.js';

/** Best evaluation so far (by `training.metricForBest`). */
export interface BestInfo {
  readonly step: number;
  readonly metric: string;
  readonly value: number;
  /** Checkpoint folder of that step (once written). */
  readonly path?: string;
}

/** Everything a hook may read about the run. The loop owns it; hooks read it. */
export interface TrainState {
  /** Optimizer steps taken. */
  globalStep: number;
  totalSteps: number;
  epoch: number;
  mode: 'epochs' | 'steps';
  stepsPerEpoch?: number;
  /** Weighted total loss of the last optimizer step (mean over its accumulated batches). */
  loss: number;
  /** Unweighted loss terms of the last optimizer step. */
  losses: Record<string, number>;
  /** Learning rate used by the last step. */
  lr: number;
  /** Global gradient norm of the last step (when clipped or logged). */
  gradNorm?: number;
  /** Metrics of the last evaluation. */
  metrics?: Record<string, number>;
  /** Best evaluation so far. */
  best?: BestInfo;
  /** Checkpoint folders written in this run, oldest first. */
  checkpoints: string[];
  /** The checkpoint this run resumed from. */
  resumedFrom?: string;
  /** Why the run stopped before its planned end (early stopping, interrupted, …). */
  stopReason?: string;
  backend: string;
  /** `Date.now()` when training began. */
  startedAt: number;
}

/** What hooks may ask the loop to do (acted on after the hooks of the current point return). */
export interface Control {
  /** Stop after the current step (a checkpoint is written first). */
  stop(reason: string): void;
  /** Write a checkpoint after the current step. */
  saveNow(): void;
  /** Run the evaluation after the current step. */
  evaluateNow(): void;
}

/** A checkpoint just written. */
export interface CheckpointInfo {
  readonly path: string;
  readonly globalStep: number;
}

type HookFn<A extends unknown[] = []> = (
  state: Readonly<TrainState>,
  control: Control,
  ...args: A
) => void | Promise<void>;

/**
 * One observer of the run. Every method is optional and awaited in list order. A hook that keeps
 * its own counters (early stopping's patience) exports them with `stateDict` so a resumed run
 * continues exactly.
 */
export interface Hook {
  /** Named in errors thrown by this hook. */
  readonly name: string;
  /** Config path that selected this hook (plugins), named in errors too. */
  readonly source?: string;
  onTrainBegin?: HookFn;
  onEpochBegin?: HookFn;
  /** After every forward/backward batch (not awaited work should be cheap: it runs per batch). */
  onBatchEnd?: HookFn<[info: BatchEndInfo]>;
  onStepEnd?: HookFn;
  onEvaluate?: HookFn<[metrics: Record<string, number>]>;
  onCheckpoint?: HookFn<[info: CheckpointInfo]>;
  onTrainEnd?: HookFn;
  /** The run failed; `error` is re-thrown after every hook saw it. */
  onError?: (state: Readonly<TrainState>, error: Error) => void | Promise<void>;
  stateDict?(): unknown;
  loadStateDict?(state: unknown): void;
}

/** Hook methods called with (state, control, …). */
export type HookEvent =
  'onTrainBegin' | 'onEpochBegin' | 'onBatchEnd' | 'onStepEnd' | 'onEvaluate' | 'onCheckpoint' | 'onTrainEnd';
