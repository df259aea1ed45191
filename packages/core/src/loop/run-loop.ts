/**
 * The training loop, top to bottom. Per forward batch: teacher outputs (outside the tape) → the
 * strategy's loss (inside the tape) → gradients accumulated. Per optimizer step: clip → LR → update
 * → hooks → evaluate / checkpoint / stop when asked. Everything observable is a hook.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingConfig } from '../config/schema.js';
import type { LossResult } from '../distillers/compute-loss.js';
import type { LoopEvent, LoopPlan } from '../distillers/plan.js';
import type { DataCursor } from '../checkpoint/state.js';
import { Optimizer } from '../optim/optimizer.js';
import { lrFactor } from '../optim/lr-schedule.js';
import { DistilleryError } from '../util/errors.js';
import type { Logger, StepInfo } from '../plugin/types.js';
import { DivergenceGuard } from './guard.js';
import { GradientAccumulator, forwardBackward } from './step.js';
import { ControlFlags, type HookList } from './hook-list.js';
import { improves, metricValue } from './hooks.js';
import type { Checkpointer } from './checkpointer.js';
import type { TeacherSide } from './teacher-side.js';
import type { TrainState } from './types.js';

/** Batches: an array, or a source that yields one epoch at a time (e.g. reshuffled each epoch). */
export type BatchSource<B> =
  readonly B[] | { readonly length: number; epoch(epoch: number): Iterable<B>; describe?(): unknown };

/** Per-batch context handed to a strategy's loss. */
export interface BatchContext {
  readonly epoch: number;
  readonly dataIndex: number;
  readonly step: StepInfo;
  readonly weights: { kdLossWeight: number; hardLabelWeight: number };
  /** True on the very first forward batch of the run (adaptor outputs are validated then). */
  readonly first: boolean;
}

/** What {@link runLoop} runs. */
export interface LoopSpec<B> {
  tc: TrainingConfig;
  plan: LoopPlan;
  dataloader: BatchSource<B>;
  params: ReadonlyMap<string, tf.Variable>;
  teacher?: TeacherSide<B>;
  /** The strategy's loss of one batch (the pure loss pipeline); runs inside the tape. */
  loss(batch: B, ctx: BatchContext, prepared: unknown): LossResult;
  weightsAt(globalStep: number): { kdLossWeight: number; hardLabelWeight: number };
  lrOverride(name: string): number | undefined;
  hooks: HookList;
  checkpointer: Checkpointer;
  evaluate?: (globalStep: number) => Record<string, number> | Promise<Record<string, number>>;
  backend: string;
  signal?: AbortSignal;
  resumeFrom?: string;
  force?: boolean;
  /** Where the divergence guard warns about skipped steps (`training.onNonFinite: "skip"`). */
  logger?: Pick<Logger, 'warn'>;
}

type Step = Extract<LoopEvent, { type: 'optimizerStep' }> & { save: boolean };

/** The plan's events with each `checkpoint` folded into the optimizer step before it. */
/**
 * The learning rate the optimizer applied in its last step to the student's parameters (the first one
 * without a per-parameter override such as a projection's own `lr`), as the update used it.
 */
function appliedLr(optimizer: Optimizer, lrOverride: (name: string) => number | undefined): number | undefined {
  let any: number | undefined;
  for (const [name, lr] of optimizer.appliedLr) {
    if (lrOverride(name) === undefined) return lr;
    any ??= lr;
  }
  return any;
}

function* stepsWithSaves(
  events: Generator<LoopEvent>,
): Generator<Exclude<LoopEvent, { type: 'optimizerStep' | 'checkpoint' }> | Step> {
  let pending: Step | undefined;
  for (const ev of events) {
    if (ev.type === 'checkpoint') {
      pending!.save = true;
      continue;
    }
    if (pending) yield pending;
    pending = undefined;
    if (ev.type === 'optimizerStep') pending = { ...ev, save: false };
    else yield ev;
  }
  if (pending) yield pending;
}

export async function runLoop<B>(x: LoopSpec<B>): Promise<TrainState> {
  const { tc, plan, hooks, params } = x;
  const state: TrainState = {
    globalStep: 0,
    totalSteps: plan.totalSteps,
    epoch: 0,
    mode: plan.mode,
    stepsPerEpoch: plan.stepsPerEpoch,
    loss: NaN,
    losses: {},
    lr: tc.optimizer.lr,
    checkpoints: [],
    backend: x.backend,
    startedAt: Date.now(),
  };
  const control = new ControlFlags();
  const optimizer = new Optimizer(tc.optimizer);
  const acc = new GradientAccumulator();
  const guard = new DivergenceGuard(tc, x.logger);
  const varList = [...params.values()];
  const engineToKey = new Map([...params].map(([k, v]) => [v.name, k]));
  const nBatches = x.dataloader.length;
  const source = Array.isArray(x.dataloader) ? undefined : (x.dataloader as { describe?(): unknown }).describe?.();
  let cursor: DataCursor = { epoch: 0, batchesSeen: 0, nextDataIndex: 0, batchesPerEpoch: nBatches, source };
  let skipTo = { batches: 0, step: 0, epoch: -1 };
  let iter: Iterator<B> | undefined;
  let first = true;
  const selection = {
    metric: tc.metricForBest,
    greaterIsBetter: tc.greaterIsBetter ?? !/loss/i.test(tc.metricForBest),
  };

  /** After a step: evaluate, checkpoint, stop — in that order, as hooks asked. Returns true to stop. */
  const act = async (): Promise<boolean> => {
    if (control.evaluate && x.evaluate) {
      const metrics = await x.evaluate(state.globalStep);
      state.metrics = metrics;
      // Model selection needs the metric; plain evaluation callbacks (older API) may return others.
      const selecting =
        metrics[selection.metric] !== undefined || tc.evaluateEvery !== null || tc.earlyStopping !== undefined;
      const value = selecting ? metricValue(metrics, selection.metric) : NaN;
      if (selecting && improves(value, state.best?.value, selection.greaterIsBetter)) {
        state.best = { step: state.globalStep, metric: selection.metric, value };
        control.saveNow(); // the best model must exist as a checkpoint
      }
      await hooks.call('onEvaluate', state, control, metrics);
    }
    if (control.stopReason) control.saveNow(); // a stopped run can always be resumed
    if (control.save) {
      const path = await x.checkpointer.save(state, optimizer, hooks, cursor);
      if (path) {
        state.checkpoints.push(path);
        if (state.best?.step === state.globalStep) state.best = { ...state.best, path };
        await hooks.call('onCheckpoint', state, control, { path, globalStep: state.globalStep });
      }
    }
    control.save = control.evaluate = false;
    state.stopReason = control.stopReason;
    return control.stopReason !== undefined;
  };

  try {
    if (x.resumeFrom) {
      const ck = await x.checkpointer.restore(x.resumeFrom, optimizer, hooks, { force: x.force });
      const s = ck.state;
      if (s.cursor.batchesPerEpoch !== nBatches) {
        throw new DistilleryError(
          'RESUME_DATA_CHANGED',
          `the checkpoint was made with ${s.cursor.batchesPerEpoch} batches per epoch, this run has ${nBatches}`,
          { where: x.resumeFrom, hint: 'resume with the same data and batch size' },
        );
      }
      skipTo = { batches: s.cursor.batchesSeen, step: s.globalStep, epoch: s.cursor.epoch };
      cursor = s.cursor;
      Object.assign(state, {
        globalStep: s.globalStep,
        epoch: s.epoch,
        loss: s.loss,
        losses: s.losses,
        metrics: s.metrics,
        best: s.best,
        resumedFrom: ck.path,
      });
    }
    await hooks.call('onTrainBegin', state, control);
    for (const ev of stepsWithSaves(plan.events())) {
      switch (ev.type) {
        case 'epochBegin': {
          state.epoch = ev.epoch;
          iter = (x.teacher?.batches?.(ev.epoch, nBatches) ?? epochOf(x.dataloader, ev.epoch))[Symbol.iterator]();
          if (ev.epoch > skipTo.epoch) await hooks.call('onEpochBegin', state, control);
          break;
        }
        case 'discardGradients':
          acc.reset();
          break;
        case 'forward': {
          const next = iter!.next();
          if (next.done)
            throw new DistilleryError(
              'DATALOADER',
              `the dataloader yielded fewer batches than its length (${nBatches})`,
              { where: 'train({ dataloader })' },
            );
          const batch = next.value;
          if (ev.counter < skipTo.batches) {
            await x.teacher?.skipped?.(batch, ev); // fast-forward to the resumed position
            break;
          }
          const step = {
            globalStep: state.globalStep,
            totalSteps: plan.totalSteps,
            epoch: ev.epoch,
            progress: state.globalStep / plan.totalSteps,
          };
          const ctx: BatchContext = {
            epoch: ev.epoch,
            dataIndex: ev.dataIndex,
            step,
            weights: x.weightsAt(ev.globalStep),
            first,
          };
          const prepared = x.teacher ? await x.teacher.prepare(batch, ctx) : undefined;
          let r: { total: number; losses: Record<string, number> };
          try {
            r = await forwardBackward(
              {
                loss: () => x.loss(batch, ctx, prepared),
                groupSize: ev.groupSize,
                varList,
                engineToKey,
                seed: tc.seed,
                counter: ev.counter,
              },
              acc,
            );
          } finally {
            if (prepared !== undefined) tf.dispose(prepared as tf.TensorContainer);
          }
          first = false;
          cursor = {
            ...cursor,
            epoch: ev.epoch,
            batchesSeen: ev.counter + 1,
            nextDataIndex: (ev.dataIndex + 1) % nBatches,
          };
          await hooks.call('onBatchEnd', state, control, {
            counter: ev.counter,
            epoch: ev.epoch,
            globalStep: ev.globalStep,
            weights: ctx.weights,
            loss: r.total,
            losses: r.losses,
          });
          break;
        }
        case 'optimizerStep': {
          if (ev.globalStep <= skipTo.step) break;
          // The divergence guard, before the update and any checkpoint: the loss terms (already read back)
          // and the global gradient norm (one reduction: NaN/Inf as soon as any gradient is) against
          // training.gradNormCeiling; it stops the run or skips the group (onNonFinite) and clips to maxGradNorm.
          const verdict = guard.beforeStep({
            accum: acc.grads,
            sums: { ...acc.sums, __total: acc.total },
            nInGroup: acc.batches,
            globalStep: ev.globalStep,
            epoch: ev.epoch,
            afterCounter: ev.afterCounter,
          });
          if (verdict.skip) {
            Object.assign(state, { globalStep: ev.globalStep, epoch: ev.epoch });
            acc.reset();
            break;
          }
          const gradNorm = verdict.gradNorm;
          const factor = lrFactor(tc.lrScheduler, optimizer.steps, plan.totalSteps);
          optimizer.step(params, acc.grads, (name) => (x.lrOverride(name) ?? tc.optimizer.lr) * factor);
          Object.assign(
            state,
            {
              globalStep: ev.globalStep,
              epoch: ev.epoch,
              lr: appliedLr(optimizer, (name) => x.lrOverride(name)) ?? state.lr,
              gradNorm,
            },
            acc.means(),
          );
          acc.reset();
          await hooks.call('onStepEnd', state, control);
          if (ev.save) control.saveNow();
          const evalDue = tc.evaluateEvery
            ? ev.globalStep % tc.evaluateEvery === 0 || ev.globalStep === plan.totalSteps
            : ev.save;
          if (evalDue && x.evaluate) control.evaluateNow();
          // A step is promise chains only (microtasks): without a macrotask turn here, a signal handler (SIGTERM,
          // SIGINT) runs only at the next real I/O, a checkpoint or an evaluation, which may be the end of the run.
          if (x.signal) await new Promise((r) => setImmediate(r));
          if (x.signal?.aborted) control.stop('interrupted');
          if (await act()) return await finish();
          break;
        }
        case 'epochEnd':
          break;
      }
    }
    return await finish();
  } catch (e) {
    await hooks.error(state, e as Error);
    throw e;
  } finally {
    acc.reset();
    optimizer.dispose();
  }

  async function finish(): Promise<TrainState> {
    await hooks.call('onTrainEnd', state, control);
    return state;
  }
}

/** Batches of one epoch of a source. */
export function epochOf<B>(source: BatchSource<B>, epoch: number): Iterable<B> {
  return Array.isArray(source) ? (source as B[]) : (source as { epoch(e: number): Iterable<B> }).epoch(epoch);
}
