/**
 * The shared training loop of every distiller strategy. It consumes the {@link planLoop} plan and,
 * per forward batch, runs the strategy's loss inside `tf.tidy` + a gradient tape, accumulates
 * gradients, steps the optimizer, writes checkpoints, and dispatches events and hooks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig } from '../config/validate.js';
import { TrainingConfigSchema, type TrainingConfig, type TrainingConfigInput } from '../config/schema.js';
import { DistillerEvents } from '../events/events.js';
import type { CallbackHooks, Logger, StepInfo } from '../plugin/types.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { DistillModel } from '../model/types.js';
import { Optimizer } from '../optim/optimizer.js';
import { guardOf } from '../loop/guard.js';
import { lrFactor } from '../optim/lr-schedule.js';
import { planLoop, type LoopEvent } from './plan.js';
import type { LossResult } from './compute-loss.js';
import { loadCheckpoint, writeCheckpoint } from '../checkpoint/checkpoint.js';
import { MetricsWriter } from '../checkpoint/metrics.js';
import { DistilleryError } from '../util/errors.js';
import { registerAllGradients } from '../backend/gradients.js';

/** Batches: an array, or a source that yields one epoch at a time (e.g. reshuffled each epoch). */
export type BatchSource<B> = readonly B[] | { readonly length: number; epoch(epoch: number): Iterable<B> };

/** Options of `train()`. */
export interface TrainOptions<B> {
  dataloader: BatchSource<B>;
  /** Override `training.numEpochs`. */
  numEpochs?: number;
  /** Override `training.numSteps`. */
  numSteps?: number;
  /** TextBrewer-style callback, awaited after each checkpoint. */
  callback?: (model: DistillModel<B>, globalStep: number) => void | Promise<void>;
  /** Evaluation, awaited after each checkpoint; its metrics go to the `evaluate` event and metrics.jsonl. */
  evaluate?: (globalStep: number) => Record<string, number> | Promise<Record<string, number>>;
  /** Extra awaited hooks (in addition to callback plugins in the registry). */
  hooks?: readonly CallbackHooks[];
  /** Stop early (the current step finishes first). */
  signal?: AbortSignal;
}

/** Summary returned by `train()`. */
export interface TrainResult {
  globalStep: number;
  totalSteps: number;
  durationMs: number;
  /** Loss breakdown of the last optimizer step. */
  lastLosses: Record<string, number>;
  lastLoss: number;
  checkpoints: string[];
  metricsFile: string;
}

/** Common constructor options. */
export interface TrainerBaseOptions<B> {
  trainingConfig?: TrainingConfigInput | TrainingConfig;
  student: DistillModel<B>;
  registry: PluginRegistry;
  logger?: Logger;
  /** Backend name, for the logs (set by the caller that selected it). */
  backend?: string;
}

/** Per-batch context handed to a strategy's loss. */
export interface BatchContext {
  readonly epoch: number;
  readonly dataIndex: number;
  readonly step: StepInfo;
  readonly weights: { kdLossWeight: number; hardLabelWeight: number };
  /** True on the very first forward batch (adaptor outputs are validated then). */
  readonly first: boolean;
}

export abstract class TrainerBase<B> {
  readonly events = new DistillerEvents();
  readonly trainingConfig: TrainingConfig;
  readonly student: DistillModel<B>;
  readonly registry: PluginRegistry;
  readonly logger: Logger;
  protected readonly backend: string;

  constructor(o: TrainerBaseOptions<B>) {
    this.trainingConfig = parseConfig(TrainingConfigSchema, o.trainingConfig ?? {});
    this.student = o.student;
    this.registry = o.registry;
    this.logger = o.logger ?? o.registry.logger;
    this.backend = o.backend ?? tf.getBackend();
  }

  /** The strategy's loss for one batch; runs inside the gradient tape and a tidy. */
  protected abstract batchLoss(batch: B, ctx: BatchContext, prepared: unknown): LossResult;
  /** Work before the tape (e.g. an async teacher forward); its tensors are disposed after the batch. */
  protected prepare(_batch: B, _ctx: BatchContext): unknown | Promise<unknown> {
    return undefined;
  }
  /** Loss weights at a step (distillers apply weight schedulers). */
  protected weightsAt(_globalStep: number, _totalSteps: number): { kdLossWeight: number; hardLabelWeight: number } {
    return { kdLossWeight: 0, hardLabelWeight: 1 };
  }
  /** Trainable variables besides the student's (projections), by name. */
  protected extraParameters(): Record<string, tf.Variable> {
    return {};
  }
  /** An absolute learning rate for a parameter, overriding the optimizer's (projections with their own `lr`). */
  protected lrOverride(_name: string): number | undefined {
    return undefined;
  }
  /** Called once before the first batch (after the plugin set is frozen). */
  protected onTrainBegin(): void {}
  /** Batch source for an epoch (BasicDistiller's logits cache replaces it). */
  protected epochBatches(source: BatchSource<B>, epoch: number): Iterable<B> {
    return Array.isArray(source) ? (source as B[]) : (source as { epoch(e: number): Iterable<B> }).epoch(epoch);
  }

  /** All trainable parameters: student + extra, by name. */
  parameters(): Map<string, tf.Variable> {
    return new Map([...Object.entries(this.student.parameters()), ...Object.entries(this.extraParameters())]);
  }

  /**
   * Restore every trainable parameter (student and projections) from a checkpoint written by
   * {@link train}. Returns the checkpoint's global step.
   */
  async loadCheckpoint(path: string): Promise<{ globalStep: number }> {
    return loadCheckpoint(path, this.parameters());
  }

  /** Run training. Resolves with a summary; checkpoints and metrics.jsonl are in the output dir. */
  async train(opts: TrainOptions<B>): Promise<TrainResult> {
    const tc = this.trainingConfig;
    const numEpochs = opts.numEpochs ?? (opts.numSteps === undefined ? tc.numEpochs : undefined);
    const numSteps = opts.numSteps ?? (opts.numEpochs === undefined ? tc.numSteps : undefined);
    const plan = planLoop({
      nBatches: opts.dataloader.length,
      gradientAccumulationSteps: tc.gradientAccumulationSteps,
      numEpochs: numEpochs ?? (numSteps === undefined ? 1 : undefined),
      numSteps,
      ckptFrequency: tc.ckptFrequency,
      ckptEpochFrequency: tc.ckptEpochFrequency,
      ckptSteps: tc.ckptSteps,
      compat: tc.compat,
    });
    this.registry.freeze();
    await registerAllGradients();
    const hooks = [...this.registry.list('callback').map((p) => ({ hooks: p.hooks, ctx: this.registry.context(p) })), ...(opts.hooks ?? []).map((h) => ({ hooks: h, ctx: this.registry.context('callback') }))];
    const runHooks = async <K extends keyof CallbackHooks>(name: K, info: Parameters<NonNullable<CallbackHooks[K]>>[0]) => {
      for (const h of hooks) await (h.hooks[name] as ((i: unknown, c: unknown) => unknown) | undefined)?.(info, h.ctx);
    };
    const metrics = new MetricsWriter(tc.logDir ?? tc.outputDir);
    const params = this.parameters();
    const engineToKey = new Map([...params].map(([k, v]) => [v.name, k]));
    const varList = [...params.values()];
    const optimizer = new Optimizer(tc.optimizer);
    const t0 = Date.now();
    const checkpoints: string[] = [];
    let accum = new Map<string, tf.Tensor>();
    let sums: Record<string, number> = {};
    let nInGroup = 0;
    let last = { loss: NaN, losses: {} as Record<string, number> };
    let gs = 0;
    let iter: Iterator<B> | undefined;
    const disposeAccum = () => {
      for (const t of accum.values()) t.dispose();
      accum = new Map();
    };
    const stepInfo = (epoch: number): StepInfo => ({ globalStep: gs, totalSteps: plan.totalSteps, epoch, progress: gs / plan.totalSteps });

    this.onTrainBegin();
    this.events.emit('trainBegin', { totalSteps: plan.totalSteps, stepsPerEpoch: plan.stepsPerEpoch, mode: plan.mode, backend: this.backend });
    metrics.write({ type: 'trainBegin', totalSteps: plan.totalSteps, mode: plan.mode, backend: this.backend });
    await runHooks('trainBegin', { totalSteps: plan.totalSteps });
    let first = true;
    try {
      for (const ev of plan.events() as Generator<LoopEvent>) {
        if (opts.signal?.aborted) break;
        switch (ev.type) {
          case 'epochBegin':
            iter = this.epochBatches(opts.dataloader, ev.epoch)[Symbol.iterator]();
            this.events.emit('epochBegin', { epoch: ev.epoch });
            await runHooks('epochBegin', { epoch: ev.epoch });
            break;
          case 'discardGradients':
            disposeAccum();
            sums = {};
            nInGroup = 0;
            break;
          case 'forward': {
            const next = iter!.next();
            if (next.done) throw new DistilleryError('DATALOADER', `the dataloader yielded fewer batches than its length (${opts.dataloader.length})`, { where: 'train({ dataloader })' });
            const ctx: BatchContext = { epoch: ev.epoch, dataIndex: ev.dataIndex, step: stepInfo(ev.epoch), weights: this.weightsAt(ev.globalStep, plan.totalSteps), first };
            const values = await this.forwardBackward(next.value, ctx, ev.groupSize, varList, engineToKey, accum);
            first = false;
            nInGroup++;
            for (const [k, v] of Object.entries(values.losses)) sums[k] = (sums[k] ?? 0) + v;
            sums.__total = (sums.__total ?? 0) + values.total;
            this.events.emit('batchEnd', { counter: ev.counter, epoch: ev.epoch, globalStep: ev.globalStep, weights: ctx.weights, loss: values.total, losses: values.losses });
            break;
          }
          case 'optimizerStep': {
            const logged = ev.globalStep % tc.logEvery === 0 || ev.globalStep === plan.totalSteps;
            // >>> divergence guard (loop/guard.ts): loss terms, gradient norm (one fused finite check) and
            // training.gradNormCeiling, before the update and any checkpoint; clips to maxGradNorm.
            const verdict = guardOf(optimizer, tc, this.logger).beforeStep({ accum, sums, nInGroup, globalStep: ev.globalStep, epoch: ev.epoch, afterCounter: ev.afterCounter });
            if (verdict.skip) {
              [gs, sums, nInGroup] = [ev.globalStep, {}, 0];
              disposeAccum();
              break;
            }
            const gradNorm = verdict.gradNorm;
            // <<< divergence guard
            const factor = lrFactor(tc.lrScheduler, optimizer.steps, plan.totalSteps);
            const lr = tc.optimizer.lr * factor;
            optimizer.step(params, accum, (name) => (this.lrOverride(name) ?? tc.optimizer.lr) * factor);
            disposeAccum();
            gs = ev.globalStep;
            const losses = Object.fromEntries(Object.entries(sums).filter(([k]) => k !== '__total').map(([k, v]) => [k, v / nInGroup]));
            last = { loss: sums.__total! / nInGroup, losses };
            sums = {};
            nInGroup = 0;
            const info = { globalStep: gs, epoch: ev.epoch, loss: last.loss, losses, lr };
            this.events.emit('stepEnd', info);
            if (logged) metrics.write({ type: 'step', ...info, gradNorm, ms: Date.now() - t0 });
            await runHooks('stepEnd', info);
            break;
          }
          case 'checkpoint': {
            const path = await writeCheckpoint(tc.outputDir, gs, this.parameters(), { epoch: ev.epoch });
            checkpoints.push(path);
            this.events.emit('checkpoint', { globalStep: gs, path });
            metrics.write({ type: 'checkpoint', globalStep: gs, path });
            await runHooks('checkpoint', { globalStep: gs, path });
            if (opts.callback) await opts.callback(this.student, gs);
            if (opts.evaluate) {
              const m = await opts.evaluate(gs);
              this.events.emit('evaluate', { globalStep: gs, metrics: m });
              metrics.write({ type: 'evaluate', globalStep: gs, ...m });
            }
            break;
          }
          case 'epochEnd':
            break;
        }
      }
    } catch (e) {
      this.events.emit('error', e as Error);
      throw e;
    } finally {
      disposeAccum();
      optimizer.dispose();
    }
    const durationMs = Date.now() - t0;
    this.events.emit('trainEnd', { globalStep: gs, durationMs });
    metrics.write({ type: 'trainEnd', globalStep: gs, durationMs, loss: last.loss, ...last.losses });
    await runHooks('trainEnd', { globalStep: gs });
    return { globalStep: gs, totalSteps: plan.totalSteps, durationMs, lastLosses: last.losses, lastLoss: last.loss, checkpoints, metricsFile: metrics.file };
  }

  /** One batch: loss inside a tape, gradients added to `accum`. Returns loss values (numbers). */
  private async forwardBackward(
    batch: B,
    ctx: BatchContext,
    groupSize: number,
    varList: tf.Variable[],
    engineToKey: Map<string, string>,
    accum: Map<string, tf.Tensor>,
  ): Promise<{ total: number; losses: Record<string, number> }> {
    const prepared = await this.prepare(batch, ctx);
    try {
      let kept: Record<string, tf.Scalar> = {};
      const { value, grads } = tf.tidy(() =>
        tf.variableGrads(() => {
          const r = this.batchLoss(batch, ctx, prepared);
          // Keep the unweighted terms past the tape's tidy, to report them.
          kept = Object.fromEntries(Object.entries(r.losses).map(([k, t]) => [k, tf.keep(t)]));
          return tf.div(r.total, groupSize) as tf.Scalar;
        }, varList),
      );
      const names = Object.keys(kept);
      const nums = names.length ? tf.tidy(() => tf.stack(names.map((k) => kept[k]!)).dataSync()) : new Float32Array();
      tf.dispose(Object.values(kept));
      const total = (await value.data())[0]! * groupSize;
      value.dispose();
      for (const [engineName, g] of Object.entries(grads)) {
        const key = engineToKey.get(engineName)!;
        const prev = accum.get(key);
        if (prev) {
          accum.set(key, tf.add(prev, g));
          prev.dispose();
          g.dispose();
        } else accum.set(key, g);
      }
      return { total, losses: Object.fromEntries(names.map((k, i) => [k, nums[i]!])) };
    } finally {
      if (prepared !== undefined) tf.dispose(prepared as tf.TensorContainer);
    }
  }
}
