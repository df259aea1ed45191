/**
 * What every strategy shares: configs, the student, the registry, telemetry events, and `train()`,
 * which plans the loop, assembles the hook list and hands both to {@link runLoop}. A strategy
 * contributes its loss (`batchLoss`), its teacher side, and its extra parameters — nothing else.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig } from '../config/validate.js';
import { TrainingConfigSchema, type TrainingConfig, type TrainingConfigInput } from '../config/schema.js';
import { DistillerEvents } from '../events/events.js';
import type { CallbackHooks, Logger } from '../plugin/types.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { DistillModel } from '../model/types.js';
import { planLoop } from './plan.js';
import type { LossResult } from './compute-loss.js';
import { loadCheckpoint } from '../checkpoint/checkpoint.js';
import { newestCheckpoint } from '../checkpoint/folder.js';
import { MetricsWriter } from '../checkpoint/metrics.js';
import { DistilleryError } from '../util/errors.js';
import { registerAllGradients } from '../backend/gradients.js';
import { runLoop, type BatchContext, type BatchSource } from '../loop/run-loop.js';
import { HookList } from '../loop/hook-list.js';
import { Checkpointer } from '../loop/checkpointer.js';
import { callbackHooksAdapter, earlyStoppingHook, eventsHook, legacyCallbackHook, metricsHook } from '../loop/hooks.js';
import type { TeacherSide } from '../loop/teacher-side.js';
import type { BestInfo, Hook, TrainState } from '../loop/types.js';

export type { BatchContext, BatchSource } from '../loop/run-loop.js';

/** Options of `train()`. */
export interface TrainOptions<B> {
  dataloader: BatchSource<B>;
  /** Override `training.numEpochs`. */
  numEpochs?: number;
  /** Override `training.numSteps`. */
  numSteps?: number;
  /** TextBrewer-style callback, awaited after each checkpoint (a hook on the list). */
  callback?: (model: DistillModel<B>, globalStep: number) => void | Promise<void>;
  /**
   * Evaluation: every `training.evaluateEvery` steps (default: at each checkpoint). Its metrics go
   * to `onEvaluate` hooks, the `evaluate` event and metrics.jsonl, and select the best checkpoint.
   */
  evaluate?: (globalStep: number) => Record<string, number> | Promise<Record<string, number>>;
  /** Extra hooks, after the built-in ones and callback plugins: {@link Hook}s or older `CallbackHooks` bags. */
  hooks?: readonly (Hook | CallbackHooks)[];
  /** Stop after the current optimizer step; a checkpoint is written first. */
  signal?: AbortSignal;
  /** Continue from a checkpoint folder; `true`: the newest complete one in `training.outputDir`. */
  resumeFrom?: string | true;
  /** Resume even if the config differs from the checkpoint's (the changed fields are logged). @default false */
  force?: boolean;
  /** The config whose hash guards a resume (the CLI passes the whole job config). @default { training, distillation } */
  runConfig?: unknown;
}

/** Summary returned by `train()`. */
export interface TrainResult {
  globalStep: number;
  totalSteps: number;
  durationMs: number;
  /** Loss breakdown of the last optimizer step. */
  lastLosses: Record<string, number>;
  lastLoss: number;
  /** Checkpoint folders written by this run. */
  checkpoints: string[];
  metricsFile: string;
  /** Best evaluation (by `training.metricForBest`) and its checkpoint. */
  best?: BestInfo;
  /** Metrics of the last evaluation. */
  lastMetrics?: Record<string, number>;
  /** Why the run stopped early (early stopping, interrupted). */
  stopReason?: string;
  resumedFrom?: string;
}

/** Common constructor options. */
export interface TrainerBaseOptions<B> {
  trainingConfig?: TrainingConfigInput | TrainingConfig;
  student: DistillModel<B>;
  registry: PluginRegistry;
  logger?: Logger;
  /** Backend name, for the logs (set by the caller that selected it). */
  backend?: string;
  /**
   * Student parameters left out of the optimizer (and of this run's checkpoints): a name is frozen when one
   * of these dot-separated prefixes or segments occurs in it, e.g. `"embeddings"`, `"layer.0"` (not `layer.10`).
   * Staged distillation uses it to train layer by layer.
   * @default []
   */
  freeze?: readonly string[];
}

/** `name` is frozen when a pattern occurs in it as whole dot-separated segments. */
export function freezeMatcher(patterns: readonly string[]): (name: string) => boolean {
  if (!patterns.length) return () => false;
  const res = patterns.map((p) => new RegExp(`(^|\\.)${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.|$)`));
  return (name) => res.some((r) => r.test(name));
}

const isHook = (h: Hook | CallbackHooks): h is Hook => typeof (h as Hook).name === 'string';

export abstract class TrainerBase<B> {
  readonly events = new DistillerEvents();
  readonly trainingConfig: TrainingConfig;
  readonly student: DistillModel<B>;
  readonly registry: PluginRegistry;
  readonly logger: Logger;
  protected readonly backend: string;
  private readonly frozen: (name: string) => boolean;
  /** The teacher the loop calls (none for plain training). */
  protected teacherSide?: TeacherSide<B>;

  constructor(o: TrainerBaseOptions<B>) {
    this.trainingConfig = parseConfig(TrainingConfigSchema, o.trainingConfig ?? {});
    this.student = o.student;
    this.registry = o.registry;
    this.logger = o.logger ?? o.registry.logger;
    this.backend = o.backend ?? tf.getBackend();
    this.frozen = freezeMatcher(o.freeze ?? []);
  }

  /** The strategy's loss for one batch; runs inside the gradient tape and a tidy. */
  protected abstract batchLoss(batch: B, ctx: BatchContext, prepared: unknown): LossResult;
  /** Loss weights at a step (distillers apply weight schedulers). */
  protected weightsAt(_globalStep: number, _totalSteps: number): { kdLossWeight: number; hardLabelWeight: number } {
    return { kdLossWeight: 0, hardLabelWeight: 1 };
  }
  /** Trainable variables besides the student's (projections), by name. */
  protected extraParameters(): Record<string, tf.Variable> {
    return {};
  }
  /** Header metadata of projections.safetensors (what each match is). */
  protected projectionMeta(): Record<string, string> {
    return {};
  }
  /** An absolute learning rate for a parameter, overriding the optimizer's (projections with their own `lr`). */
  protected lrOverride(_name: string): number | undefined {
    return undefined;
  }
  /** Called once before the first batch (after the plugin set is frozen). */
  protected onTrainBegin(): void {}
  /** The config a resume is checked against. */
  protected runConfig(): unknown {
    return { training: this.trainingConfig };
  }

  /**
   * Whether this run's loss reaches the model's outputs (the logits). False for a distillation stage that only
   * matches intermediate features (KD and hard-label weights 0): its outputs stay as they were, so evaluating
   * them says nothing about the stage (staged runs skip its evaluation).
   */
  trainsOutputs(): boolean {
    return true;
  }

  /** All trainable parameters: student (less the frozen ones) + extra, by name. */
  parameters(): Map<string, tf.Variable> {
    const student = Object.entries(this.student.parameters()).filter(([n]) => !this.frozen(n));
    return new Map([...student, ...Object.entries(this.extraParameters())]);
  }

  /**
   * Restore the student (all of it, frozen parameters included) and the projections from a checkpoint
   * folder (or a legacy `gs<step>.safetensors`). Returns the checkpoint's global step. To continue training
   * with optimizer state and data position, use `train({ resumeFrom })` instead.
   */
  async loadCheckpoint(path: string): Promise<{ globalStep: number }> {
    // Every student parameter, not only the trainable ones: the checkpoint of a stage that froze some holds
    // them all (see Checkpointer), and a trainer that freezes nothing must get the whole student back.
    return loadCheckpoint(
      path,
      new Map([...Object.entries(this.student.parameters()), ...Object.entries(this.extraParameters())]),
    );
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
    if (tc.earlyStopping && !opts.evaluate) {
      throw new DistilleryError('CONFIG_INVALID', 'early stopping needs an evaluation', {
        where: 'training.earlyStopping',
        hint: 'pass train({ evaluate }) (the CLI evaluates on the validation split), or remove earlyStopping',
      });
    }
    const resumeFrom = opts.resumeFrom === true ? newestCheckpoint(tc.outputDir) : opts.resumeFrom;
    if (opts.resumeFrom === true && !resumeFrom) {
      throw new DistilleryError('RESUME_NOTHING', `no complete checkpoint-<step> folder in ${tc.outputDir}`, {
        where: 'training.outputDir',
        hint: 'run without --resume to start fresh, or pass the checkpoint folder: --resume <path>',
      });
    }
    // ── the output-folder lock is taken here, before anything is written to training.outputDir ──
    this.registry.freeze();
    await registerAllGradients();
    this.onTrainBegin();
    this.teacherSide?.reset?.();

    const total = plan.totalSteps;
    const selection = {
      metric: tc.metricForBest,
      greaterIsBetter: tc.greaterIsBetter ?? !/loss/i.test(tc.metricForBest),
    };
    const metrics = new MetricsWriter(tc.logDir ?? tc.outputDir, { open: false });
    const hooks: Hook[] = [
      eventsHook(this.events),
      metricsHook(metrics, tc.logEvery),
      ...(tc.earlyStopping ? [earlyStoppingHook({ ...selection, ...tc.earlyStopping })] : []),
      ...this.registry
        .list('callback')
        .map((p) =>
          callbackHooksAdapter(
            p.meta.name,
            p.hooks,
            this.registry.context(p),
            p.meta.package ? `plugins: "${p.meta.package}"` : `callback plugin "${p.meta.name}"`,
          ),
        ),
      ...(opts.hooks ?? []).map((h, i) =>
        isHook(h) ? h : callbackHooksAdapter(`train({ hooks })[${i}]`, h, this.registry.context('callback')),
      ),
      ...(opts.callback ? [legacyCallbackHook(this.student, opts.callback)] : []),
    ];
    const params = this.parameters();
    const studentKeys = new Set(Object.keys(this.student.parameters()));
    const checkpointer = new Checkpointer({
      tc,
      params,
      studentKeys,
      studentParams: new Map(Object.entries(this.student.parameters())),
      projectionMeta: this.projectionMeta(),
      config: opts.runConfig ?? this.runConfig(),
      logger: this.logger,
      weightsAt: (gs) => this.weightsAt(gs, total),
    });
    const state: TrainState = await runLoop({
      tc,
      plan,
      dataloader: opts.dataloader,
      params,
      teacher: this.teacherSide,
      hooks: new HookList(hooks),
      checkpointer,
      loss: (batch, ctx, prepared) => {
        // The run's scope provides the step to every plugin context resolved from it (STEP_TOKEN).
        this.registry.setStep(ctx.step);
        return this.batchLoss(batch, ctx, prepared);
      },
      weightsAt: (gs) => this.weightsAt(gs, total),
      lrOverride: (name) => this.lrOverride(name),
      evaluate: opts.evaluate,
      backend: this.backend,
      signal: opts.signal,
      resumeFrom,
      force: opts.force,
      logger: this.logger,
    });
    await this.teacherSide?.flush?.();
    return {
      globalStep: state.globalStep,
      totalSteps: total,
      durationMs: Date.now() - state.startedAt,
      lastLosses: state.losses,
      lastLoss: state.loss,
      checkpoints: state.checkpoints,
      metricsFile: metrics.file,
      best: state.best,
      lastMetrics: state.metrics,
      stopReason: state.stopReason,
      resumedFrom: state.resumedFrom,
    };
  }
}
