/**
 * BasicDistiller: KD on logits + hard-label loss, temperature and weight schedulers, probability
 * shift, and caching of teacher logits (TextBrewer `BasicDistiller`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig } from '../config/validate.js';
import { DistillationConfigSchema, type DistillationConfig, type DistillationConfigInput } from '../config/schema.js';
import { assertPluginNames } from '../config/validate.js';
import type { Adaptor, AdaptorOutput } from '../model/types.js';
import { validateAdaptorOutput, type AdaptorNeeds } from '../model/validate.js';
import type { TemperatureFn } from '../plugin/types.js';
import { asList, computeDistillationLoss, makeTemperatureFn, type LossResult } from './compute-loss.js';
import { scheduledWeight } from './plan.js';
import { TrainerBase, type BatchContext, type BatchSource, type TrainerBaseOptions } from './trainer-base.js';
import { DistilleryError } from '../util/errors.js';

/** A teacher: any model with a forward pass; it may be async (e.g. onnxruntime). */
export interface TeacherModel<B, O = unknown> {
  forward(batch: B, opts: { training: false }): O | Promise<O>;
}

export interface DistillerOptions<B, OS = unknown, OT = unknown> extends TrainerBaseOptions<B> {
  distillationConfig?: DistillationConfigInput | DistillationConfig;
  teacher: TeacherModel<B, OT>;
  adaptorT: Adaptor<B, OT>;
  adaptorS: Adaptor<B, OS>;
}

/**
 * A teacher forward outside the gradient tape (TextBrewer's no_grad). Sync teachers run in a tidy
 * (intermediates freed, outputs kept); async ones (e.g. onnxruntime) return tensors the caller owns.
 */
export async function runTeacher<B, O>(teacher: TeacherModel<B, O>, batch: B): Promise<O> {
  let pending: Promise<O> | undefined;
  const sync = tf.tidy(() => {
    const r = teacher.forward(batch, { training: false });
    if (r instanceof Promise) {
      pending = r;
      return [];
    }
    return r as tf.TensorContainer;
  });
  return pending ? await pending : (sync as O);
}

type Prepared = { outT?: unknown; cached?: { logits: tf.Tensor[]; logitsMask: tf.Tensor[] } };
type CacheEntry<B> = { batch: B; logits: { data: Float32Array; shape: number[] }[]; logitsMask: { data: Int32Array | Float32Array; shape: number[] }[] };

export class BasicDistiller<B, OS = unknown, OT = unknown> extends TrainerBase<B> {
  readonly distillationConfig: DistillationConfig;
  protected readonly teacher: TeacherModel<B, OT>;
  protected readonly adaptorT: Adaptor<B, OT>;
  protected readonly adaptorS: Adaptor<B, OS>;
  private tempFn?: TemperatureFn;
  private kdSched?: (x: number) => number;
  private hlSched?: (x: number) => number;
  private cache: CacheEntry<B>[] = [];

  constructor(o: DistillerOptions<B, OS, OT>) {
    super(o);
    this.distillationConfig = parseConfig(DistillationConfigSchema, o.distillationConfig ?? {});
    this.teacher = o.teacher;
    this.adaptorT = o.adaptorT;
    this.adaptorS = o.adaptorS;
    assertPluginNames(this.distillationConfig, this.registry);
    if (this.distillationConfig.isCachingLogits && this.distillationConfig.intermediateMatches.length) {
      throw new DistilleryError('CONFIG_INVALID', 'teacher logits caching cannot be combined with intermediate matches (only logits are cached)', {
        where: 'distillation.isCachingLogits',
        hint: 'set isCachingLogits: false, or remove intermediateMatches',
      });
    }
    this.checkMatchesAllowed();
  }

  /** BasicDistiller has no intermediate matches; GeneralDistiller overrides. */
  protected checkMatchesAllowed(): void {
    if (this.distillationConfig.intermediateMatches.length) {
      throw new DistilleryError('CONFIG_INVALID', 'BasicDistiller does not use intermediateMatches', {
        where: 'distillation.intermediateMatches',
        hint: 'use GeneralDistiller (distillery distill picks it when matches are present)',
      });
    }
  }

  protected override onTrainBegin(): void {
    const d = this.distillationConfig;
    this.tempFn = makeTemperatureFn(d, this.registry);
    const sched = (name: string, path: string) => (name === 'none' ? undefined : this.registry.get('weight-scheduler', name, path).schedule);
    this.kdSched = sched(d.kdLossWeightScheduler, 'distillation.kdLossWeightScheduler');
    this.hlSched = sched(d.hardLabelWeightScheduler, 'distillation.hardLabelWeightScheduler');
    this.cache = [];
  }

  protected override weightsAt(globalStep: number, totalSteps: number) {
    const d = this.distillationConfig;
    return {
      kdLossWeight: scheduledWeight(d.kdLossWeight, this.kdSched, globalStep, totalSteps),
      hardLabelWeight: scheduledWeight(d.hardLabelWeight, this.hlSched, globalStep, totalSteps),
    };
  }

  protected override epochBatches(source: BatchSource<B>, epoch: number): Iterable<B> {
    // TextBrewer caches (batch, teacher logits) during the first epoch and replays the cache after.
    if (this.distillationConfig.isCachingLogits && epoch > 0 && this.cache.length === source.length) return this.cache.map((c) => c.batch);
    return super.epochBatches(source, epoch);
  }

  protected override async prepare(batch: B, ctx: BatchContext): Promise<unknown> {
    const caching = this.distillationConfig.isCachingLogits;
    if (caching && ctx.epoch > 0 && this.cache[ctx.dataIndex]) {
      const c = this.cache[ctx.dataIndex]!;
      return { cached: { logits: c.logits.map((l) => tf.tensor(l.data, l.shape)), logitsMask: c.logitsMask.map((l) => tf.tensor(l.data, l.shape)) } };
    }
    const outT = await runTeacher(this.teacher, batch);
    if (caching && ctx.epoch === 0) {
      tf.tidy(() => {
        const resT = this.adaptorT(batch, outT);
        this.cache[ctx.dataIndex] = {
          batch,
          logits: asList(resT.logits).map((t) => ({ data: t.dataSync() as Float32Array, shape: t.shape })),
          logitsMask: asList(resT.logitsMask).map((t) => ({ data: t.dataSync() as Int32Array, shape: t.shape })),
        };
      });
    }
    return { outT };
  }

  /** Adaptor needs of each side, for first-step validation. */
  protected needs(): { S: AdaptorNeeds; T: AdaptorNeeds } {
    const d = this.distillationConfig;
    const features: Record<'S' | 'T', Record<string, number>> = { S: {}, T: {} };
    for (const m of d.intermediateMatches) {
      for (const [side, layer] of [['S', m.layerS], ['T', m.layerT]] as const) {
        const max = Math.max(...(Array.isArray(layer) ? layer : [layer]));
        features[side][m.feature] = Math.max(features[side][m.feature] ?? 0, max);
      }
    }
    const hl = d.hardLabelWeight > 0 || d.hardLabelWeightScheduler !== 'none';
    return { S: { logits: true, losses: hl, labels: d.probabilityShift, features: features.S }, T: { logits: true, features: features.T } };
  }

  /** The teacher side's adaptor output for a batch (MultiTeacherDistiller averages several). */
  protected resultsT(batch: B, prepared: unknown): AdaptorOutput {
    const p = prepared as Prepared;
    if (p.cached) return { logits: p.cached.logits, ...(p.cached.logitsMask.length ? { logitsMask: p.cached.logitsMask } : {}) };
    return this.adaptorT(batch, p.outT as OT);
  }

  protected override batchLoss(batch: B, ctx: BatchContext, prepared: unknown): LossResult {
    const p = prepared as Prepared;
    const resT = this.resultsT(batch, p);
    const resS = this.adaptorS(batch, this.student.forward(batch, { training: true }) as OS);
    if (ctx.first) {
      const n = this.needs();
      validateAdaptorOutput('student', resS, n.S);
      validateAdaptorOutput('teacher', resT, n.T);
    }
    return computeDistillationLoss(resS, resT, {
      config: this.distillationConfig,
      registry: this.registry,
      weights: ctx.weights,
      step: ctx.step,
      temperatureFn: this.tempFn,
      compat: this.trainingConfig.compat,
      ...this.lossExtras(),
    });
  }

  /** Extra pipeline inputs (GeneralDistiller adds projections). */
  protected lossExtras(): { projections?: readonly (import('../plugin/types.js').Projection | undefined)[] } {
    return {};
  }
}
