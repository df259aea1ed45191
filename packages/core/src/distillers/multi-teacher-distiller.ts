/**
 * MultiTeacherDistiller: one student, several teachers (TextBrewer `MultiTeacherDistiller`). Each
 * teacher's logits are masked with its own `logitsMask`, then averaged element-wise — a mean of
 * **logits**, not of probabilities, as TextBrewer does — and the student learns from that average
 * (KD + hard labels; no intermediate matches).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Adaptor, AdaptorOutput } from '../model/types.js';
import { selectLogitsWithMask } from '../tensor/index.js';
import { DistilleryError } from '../util/errors.js';
import { asList } from './compute-loss.js';
import { BasicDistiller, type DistillerOptions, type TeacherModel } from './basic-distiller.js';
import { MultiTeacher } from '../loop/teacher-side.js';

/**
 * Average several teachers' adaptor outputs into one: masked logits, mean per head; with `weights`
 * (one per teacher) the weighted mean Σ w_t·l_t / Σ w_t.
 */
export function averageTeacherLogits(results: readonly AdaptorOutput[], weights?: readonly number[]): AdaptorOutput {
  if (!results.length) throw new DistilleryError('CONFIG_INVALID', 'MultiTeacherDistiller needs at least one teacher');
  const perTeacher = results.map((r, t) => {
    const logits = asList(r.logits);
    const masks = asList(r.logitsMask);
    if (!logits.length)
      throw new DistilleryError('ADAPTOR_OUTPUT', `teacher ${t} adaptor returned no "logits"`, {
        where: `teacher adaptor (teacher ${t})`,
      });
    return masks.length ? selectLogitsWithMask(logits, masks, `teacher ${t} adaptor output "logitsMask"`) : logits;
  });
  const heads = perTeacher[0]!.length;
  perTeacher.forEach((l, t) => {
    if (l.length !== heads)
      throw new DistilleryError('ADAPTOR_OUTPUT', `teacher ${t} has ${l.length} logits heads, teacher 0 has ${heads}`);
  });
  if (weights) {
    const z = weights.reduce((a, b) => a + b, 0);
    return {
      logits: Array.from({ length: heads }, (_, h) =>
        tf.div(tf.addN(perTeacher.map((l, t) => tf.mul(l[h]!, weights[t]!))), z),
      ),
    };
  }
  const avg = Array.from({ length: heads }, (_, h) => tf.div(tf.addN(perTeacher.map((l) => l[h]!)), perTeacher.length));
  return { logits: avg };
}

export interface MultiTeacherOptions<B, OS, OT> extends Omit<DistillerOptions<B, OS, OT>, 'teacher' | 'adaptorT'> {
  teachers: readonly TeacherModel<B, OT>[];
  /** One adaptor for every teacher (TextBrewer), or one per teacher. */
  adaptorT: Adaptor<B, OT> | readonly Adaptor<B, OT>[];
  /** Weight of each teacher in the mean of logits (positive). @default equal weights */
  teacherWeights?: readonly number[];
}

export class MultiTeacherDistiller<B, OS = unknown, OT = unknown> extends BasicDistiller<B, OS, OT> {
  constructor(o: MultiTeacherOptions<B, OS, OT>) {
    const adaptors =
      typeof o.adaptorT === 'function' ? o.teachers.map(() => o.adaptorT as Adaptor<B, OT>) : [...o.adaptorT];
    if (!o.teachers.length)
      throw new DistilleryError('CONFIG_INVALID', 'MultiTeacherDistiller needs at least one teacher', {
        where: 'teachers',
      });
    if (adaptors.length !== o.teachers.length) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        `${o.teachers.length} teachers but ${adaptors.length} teacher adaptors`,
        { where: 'adaptorT', hint: 'give one adaptor for all teachers, or one per teacher' },
      );
    }
    super({ ...o, teacher: o.teachers[0]!, adaptorT: adaptors[0]! });
    if (this.distillationConfig.isCachingLogits) {
      throw new DistilleryError('CONFIG_INVALID', 'MultiTeacherDistiller does not cache logits', {
        where: 'distillation.isCachingLogits',
      });
    }
    const w = o.teacherWeights;
    if (w && (w.length !== o.teachers.length || w.some((x) => !(x > 0)))) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        `teacherWeights must hold one positive number per teacher (${o.teachers.length}), got [${w.join(', ')}]`,
        { where: 'teachers[].weight', hint: 'give every teacher a weight > 0, or none' },
      );
    }
    this.teacherSide = new MultiTeacher(
      o.teachers.map((model, i) => ({ model, adaptor: adaptors[i]! })),
      (r) => averageTeacherLogits(r, w),
    );
  }

  protected override needs(): ReturnType<BasicDistiller<B, OS, OT>['needs']> {
    return { ...super.needs(), T: { logits: true } };
  }
}
