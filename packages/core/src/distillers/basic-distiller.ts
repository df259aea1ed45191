/**
 * BasicDistiller: KD on logits + hard-label loss, temperature and weight schedulers, probability
 * shift, and caching of teacher logits (TextBrewer `BasicDistiller`).
 */
import { parseConfig } from '../config/validate.js';
import { DistillationConfigSchema, type DistillationConfig, type DistillationConfigInput } from '../config/schema.js';
import { assertPluginNames } from '../config/validate.js';
import type { Adaptor } from '../model/types.js';
import { validateAdaptorOutput, type AdaptorNeeds } from '../model/validate.js';
import type { TemperatureFn } from '../plugin/types.js';
import { computeDistillationLoss, inPlugin, makeTemperatureFn, type LossResult } from './compute-loss.js';
import { scheduledWeight } from './plan.js';
import { TrainerBase, type BatchContext, type TrainerBaseOptions } from './trainer-base.js';
import { CachingTeacher, LiveTeacher, type TeacherModel } from '../loop/teacher-side.js';
import { CachedTeacher, teacherCacheFields, type CachedTeacherOptions } from '../loop/cached-teacher.js';

export { runTeacher, type TeacherModel } from '../loop/teacher-side.js';
import { DistilleryError } from '../util/errors.js';

export interface DistillerOptions<B, OS = unknown, OT = unknown> extends TrainerBaseOptions<B> {
  distillationConfig?: DistillationConfigInput | DistillationConfig;
  teacher: TeacherModel<B, OT>;
  adaptorT: Adaptor<B, OT>;
  adaptorS: Adaptor<B, OS>;
}

export class BasicDistiller<B, OS = unknown, OT = unknown> extends TrainerBase<B> {
  readonly distillationConfig: DistillationConfig;
  protected readonly teacher: TeacherModel<B, OT>;
  protected readonly adaptorT: Adaptor<B, OT>;
  protected readonly adaptorS: Adaptor<B, OS>;
  private tempFn?: TemperatureFn;
  private kdSched?: (x: number) => number;
  private hlSched?: (x: number) => number;

  constructor(o: DistillerOptions<B, OS, OT>) {
    super(o);
    this.distillationConfig = parseConfig(DistillationConfigSchema, o.distillationConfig ?? {});
    this.teacher = o.teacher;
    this.adaptorT = o.adaptorT;
    this.adaptorS = o.adaptorS;
    assertPluginNames(this.distillationConfig, this.registry);
    if (this.distillationConfig.isCachingLogits && this.distillationConfig.intermediateMatches.length) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        'teacher logits caching cannot be combined with intermediate matches (only logits are cached)',
        {
          where: 'distillation.isCachingLogits',
          hint: 'set isCachingLogits: false, or remove intermediateMatches',
        },
      );
    }
    if (this.distillationConfig.isCachingLogits && this.distillationConfig.teacherCache) {
      throw new DistilleryError('CONFIG_INVALID', 'isCachingLogits and teacherCache both cache the teacher; use one', {
        where: 'distillation.isCachingLogits',
        hint: 'remove isCachingLogits: teacherCache also covers features, shuffling and later runs',
      });
    }
    this.checkMatchesAllowed();
    // Only what the loss reads of the teacher's outputs outlives its forward pass (the fields a teacher cache stores).
    const live = new LiveTeacher(o.teacher, o.adaptorT, {
      keep: teacherCacheFields(this.distillationConfig.intermediateMatches),
    });
    this.teacherSide = this.distillationConfig.isCachingLogits ? new CachingTeacher(live) : live;
  }

  /**
   * Serve the teacher from a per-example output cache (`distillation.teacherCache`): wraps the
   * strategy's teacher side (live, multi-teacher or per-task) in a {@link CachedTeacher} storing
   * logits and the features the intermediate matches read. Call before `train`.
   */
  useTeacherCache(o: Omit<CachedTeacherOptions<B>, 'fields'>): CachedTeacher<B> {
    if (this.teacherSide instanceof CachedTeacher)
      throw new DistilleryError('CONFIG_INVALID', 'this distiller already uses a teacher cache', {
        where: 'useTeacherCache',
      });
    const cached = new CachedTeacher(this.teacherSide!, {
      ...o,
      fields: teacherCacheFields(this.distillationConfig.intermediateMatches),
    });
    this.teacherSide = cached;
    return cached;
  }

  /** The teacher cache in use (after {@link useTeacherCache}). */
  get teacherCache(): CachedTeacher<B> | undefined {
    return this.teacherSide instanceof CachedTeacher ? this.teacherSide : undefined;
  }

  protected override onTrainBegin(): void {
    if (this.distillationConfig.teacherCache && !this.teacherCache) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        'distillation.teacherCache is set, but the distiller was given no per-example cache keys',
        {
          where: 'distillation.teacherCache',
          hint: 'call distiller.useTeacherCache({ store, namespace, rowsOf }) before train() (distillery distill does this for you)',
        },
      );
    }
    this.beginSchedules();
  }

  protected override runConfig(): unknown {
    return { training: this.trainingConfig, distillation: this.distillationConfig };
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

  private beginSchedules(): void {
    const d = this.distillationConfig;
    this.tempFn = makeTemperatureFn(d, this.registry);
    const sched = (name: string, path: string) => {
      if (name === 'none') return undefined;
      const plugin = this.registry.get('weight-scheduler', name, path);
      return (x: number) => inPlugin(`weight-scheduler plugin "${name}"`, path, () => plugin.schedule(x));
    };
    this.kdSched = sched(d.kdLossWeightScheduler, 'distillation.kdLossWeightScheduler');
    this.hlSched = sched(d.hardLabelWeightScheduler, 'distillation.hardLabelWeightScheduler');
  }

  protected override weightsAt(globalStep: number, totalSteps: number) {
    const d = this.distillationConfig;
    return {
      kdLossWeight: scheduledWeight(d.kdLossWeight, this.kdSched, globalStep, totalSteps),
      hardLabelWeight: scheduledWeight(d.hardLabelWeight, this.hlSched, globalStep, totalSteps),
    };
  }

  /** True when the KD or the hard-label term has a weight (or a weight scheduler). */
  override trainsOutputs(): boolean {
    const d = this.distillationConfig;
    return (
      d.kdLossWeight > 0 ||
      d.hardLabelWeight > 0 ||
      d.kdLossWeightScheduler !== 'none' ||
      d.hardLabelWeightScheduler !== 'none'
    );
  }

  /** Adaptor needs of each side, for first-step validation. */
  protected needs(): { S: AdaptorNeeds; T: AdaptorNeeds } {
    const d = this.distillationConfig;
    const features: Record<'S' | 'T', Record<string, number>> = { S: {}, T: {} };
    for (const m of d.intermediateMatches) {
      for (const [side, layer] of [
        ['S', m.layerS],
        ['T', m.layerT],
      ] as const) {
        const max = Math.max(...(Array.isArray(layer) ? layer : [layer]));
        features[side][m.feature] = Math.max(features[side][m.feature] ?? 0, max);
      }
    }
    const hl = d.hardLabelWeight > 0 || d.hardLabelWeightScheduler !== 'none';
    return {
      S: { logits: true, losses: hl, labels: d.probabilityShift, features: features.S },
      T: { logits: true, features: features.T },
    };
  }

  protected override batchLoss(batch: B, ctx: BatchContext, prepared: unknown): LossResult {
    const resT = this.teacherSide!.results(batch, prepared);
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
