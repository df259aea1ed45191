/**
 * The built-in hooks: telemetry events, metrics.jsonl, best-model tracking, early stopping, and
 * adapters that put the older observation channels (callback plugins, `train({ hooks, callback,
 * evaluate })`) on the same list.
 */
import type { DistillerEvents } from '../events/events.js';
import type { MetricsWriter } from '../checkpoint/metrics.js';
import type { CallbackHooks, PluginContext } from '../plugin/types.js';
import type { DistillModel } from '../model/types.js';
import { DistilleryError } from '../util/errors.js';
import type { Hook, TrainState } from './types.js';

const stepInfo = (s: Readonly<TrainState>) => ({
  globalStep: s.globalStep,
  epoch: s.epoch,
  loss: s.loss,
  losses: s.losses,
  lr: s.lr,
});

/** Emits the distiller's telemetry events (fire-and-forget listeners). */
export function eventsHook(events: DistillerEvents): Hook {
  return {
    name: 'events',
    onTrainBegin: (s) =>
      void events.emit('trainBegin', {
        totalSteps: s.totalSteps,
        stepsPerEpoch: s.stepsPerEpoch,
        mode: s.mode,
        backend: s.backend,
      }),
    onEpochBegin: (s) => void events.emit('epochBegin', { epoch: s.epoch }),
    onBatchEnd: (_s, _c, info) => void events.emit('batchEnd', info),
    onStepEnd: (s) => void events.emit('stepEnd', stepInfo(s)),
    onEvaluate: (s, _c, metrics) => void events.emit('evaluate', { globalStep: s.globalStep, metrics }),
    onCheckpoint: (_s, _c, info) => void events.emit('checkpoint', info),
    onTrainEnd: (s) => void events.emit('trainEnd', { globalStep: s.globalStep, durationMs: Date.now() - s.startedAt }),
    onError: (_s, e) => void events.emit('error', e),
  };
}

/** Writes metrics.jsonl: a `step` line every `logEvery` steps (and the last), evaluations, checkpoints. */
export function metricsHook(writer: MetricsWriter, logEvery: number): Hook {
  return {
    name: 'metrics.jsonl',
    onTrainBegin: (s) => {
      writer.open(s.resumedFrom ? s.globalStep : undefined);
      if (s.resumedFrom)
        writer.write({
          type: 'resume',
          globalStep: s.globalStep,
          path: s.resumedFrom,
          totalSteps: s.totalSteps,
          backend: s.backend,
        });
      else writer.write({ type: 'trainBegin', totalSteps: s.totalSteps, mode: s.mode, backend: s.backend });
    },
    onStepEnd: (s) => {
      if (s.globalStep % logEvery === 0 || s.globalStep === s.totalSteps)
        writer.write({ type: 'step', ...stepInfo(s), gradNorm: s.gradNorm, ms: Date.now() - s.startedAt });
    },
    onEvaluate: (s, _c, metrics) =>
      writer.write({ type: 'evaluate', globalStep: s.globalStep, ...metrics, ...(s.best ? { best: s.best } : {}) }),
    onCheckpoint: (s, _c, info) => {
      writer.write({
        type: 'checkpoint',
        globalStep: info.globalStep,
        path: info.path,
        ...(s.best?.step === info.globalStep ? { best: true } : {}),
      });
      writer.flush();
    },
    onTrainEnd: (s) => {
      writer.write({
        type: 'trainEnd',
        globalStep: s.globalStep,
        durationMs: Date.now() - s.startedAt,
        loss: s.loss,
        ...s.losses,
        ...(s.best ? { best: s.best } : {}),
        ...(s.stopReason ? { stopReason: s.stopReason } : {}),
      });
      writer.close();
    },
    onError: () => writer.close(),
  };
}

/** Whether `value` beats `best` by more than `minDelta` in the metric's direction. */
export function improves(value: number, best: number | undefined, greaterIsBetter: boolean, minDelta = 0): boolean {
  if (best === undefined) return Number.isFinite(value);
  return greaterIsBetter ? value > best + minDelta : value < best - minDelta;
}

/** The metric named by `training.metricForBest` from an evaluation; a clear error when absent. */
export function metricValue(metrics: Record<string, number>, name: string): number {
  const v = metrics[name];
  if (typeof v !== 'number') {
    throw new DistilleryError(
      'CONFIG_INVALID',
      `the evaluation returned no metric "${name}" (it returned: ${Object.keys(metrics).join(', ') || 'nothing'})`,
      {
        where: 'training.metricForBest',
        hint: `set training.metricForBest to one of the evaluation's metrics`,
      },
    );
  }
  return v;
}

/**
 * Early stopping: stop when `patience` evaluations in a row did not improve the best value by more
 * than `minDelta`. Its counter is saved in checkpoints.
 */
export function earlyStoppingHook(o: {
  metric: string;
  greaterIsBetter: boolean;
  patience: number;
  minDelta: number;
}): Hook {
  let best: number | undefined;
  let bad = 0;
  return {
    name: 'early-stopping',
    onEvaluate: (_s, control, metrics) => {
      const v = metricValue(metrics, o.metric);
      if (improves(v, best, o.greaterIsBetter, o.minDelta)) {
        best = v;
        bad = 0;
      } else if (++bad >= o.patience)
        control.stop(
          `early stopping: ${o.metric} did not improve by more than ${o.minDelta} in ${o.patience} evaluations`,
        );
    },
    stateDict: () => ({ best, bad }),
    loadStateDict: (s) => {
      ({ best, bad } = s as { best?: number; bad: number });
    },
  };
}

/** A `CallbackHooks` bag (callback plugins, `train({ hooks })`) as a hook. */
export function callbackHooksAdapter(name: string, hooks: CallbackHooks, ctx: PluginContext, source?: string): Hook {
  return {
    name,
    source,
    onTrainBegin: hooks.trainBegin && ((s) => hooks.trainBegin!({ totalSteps: s.totalSteps }, ctx)),
    onEpochBegin: hooks.epochBegin && ((s) => hooks.epochBegin!({ epoch: s.epoch }, ctx)),
    onStepEnd: hooks.stepEnd && ((s) => hooks.stepEnd!(stepInfo(s), ctx)),
    onCheckpoint: hooks.checkpoint && ((_s, _c, info) => hooks.checkpoint!(info, ctx)),
    onTrainEnd: hooks.trainEnd && ((s) => hooks.trainEnd!({ globalStep: s.globalStep }, ctx)),
  };
}

/** TextBrewer's `callback(model, step)`, called after each checkpoint. */
export function legacyCallbackHook<B>(
  model: DistillModel<B>,
  callback: (model: DistillModel<B>, globalStep: number) => void | Promise<void>,
): Hook {
  return { name: 'train({ callback })', onCheckpoint: (_s, _c, info) => callback(model, info.globalStep) };
}
