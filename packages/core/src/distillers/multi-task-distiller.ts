/**
 * MultiTaskDistiller: one (multi-head) student learns several tasks, each from its own teacher
 * (TextBrewer `MultiTaskDistiller`). Every batch comes from one task, drawn at random with
 * probability p_k = n_k^τ / Σ_j n_j^τ (n_k: the task's batches per epoch), from a seeded generator;
 * each task's data is cycled. Training is in steps mode (`numSteps`).
 */
import type { Adaptor, DistillModel } from '../model/types.js';
import { DistilleryError } from '../util/errors.js';
import { mulberry32 } from '../util/rng.js';
import { BasicDistiller, type DistillerOptions, type TeacherModel } from './basic-distiller.js';
import { LiveTeacher, PerTaskTeacher } from '../loop/teacher-side.js';
import type { BatchSource, TrainOptions, TrainResult } from './trainer-base.js';

/** A batch tagged with its task. */
export interface TaskBatch<B> {
  readonly task: string;
  readonly batch: B;
}

/** One task: its teacher, adaptors and data. */
export interface TaskSpec<B, OS = unknown, OT = unknown> {
  teacher: TeacherModel<B, OT>;
  adaptorT: Adaptor<B, OT>;
  adaptorS: Adaptor<B, OS>;
  dataloader: BatchSource<B>;
}

/** Sampling probabilities p_k ∝ n_k^τ, in the tasks' listed order (TextBrewer's formula). */
export function taskSamplingWeights(
  sizes: Readonly<Record<string, number>>,
  tau: number,
): { tasknames: string[]; p: number[] } {
  const tasknames = Object.keys(sizes);
  const w = tasknames.map((t) => sizes[t]! ** tau);
  const z = w.reduce((a, b) => a + b, 0);
  return { tasknames, p: w.map((x) => x / z) };
}

export interface MultiTaskOptions<B, OS, OT> extends Omit<
  DistillerOptions<TaskBatch<B>, OS, OT>,
  'teacher' | 'adaptorT' | 'adaptorS' | 'student'
> {
  student: DistillModel<B, OS>;
  tasks: Readonly<Record<string, TaskSpec<B, OS, OT>>>;
  /** Sampling temperature τ (1: proportional to size, 0: uniform). Default 1. */
  tau?: number;
}

export class MultiTaskDistiller<B, OS = unknown, OT = unknown> extends BasicDistiller<TaskBatch<B>, OS, OT> {
  readonly tasks: Readonly<Record<string, TaskSpec<B, OS, OT>>>;
  readonly weights: { tasknames: string[]; p: number[] };

  constructor(o: MultiTaskOptions<B, OS, OT>) {
    const names = Object.keys(o.tasks);
    if (!names.length)
      throw new DistilleryError('CONFIG_INVALID', 'MultiTaskDistiller needs at least one task', { where: 'tasks' });
    const student = o.student;
    super({
      ...o,
      student: { forward: (tb, opts) => student.forward(tb.batch, opts), parameters: () => student.parameters() },
      // The loop calls the per-task teacher side set below; these serve the base class's contract.
      teacher: { forward: (tb, opts) => o.tasks[tb.task]!.teacher.forward(tb.batch, opts) },
      adaptorT: (tb, out) => o.tasks[tb.task]!.adaptorT(tb.batch, out),
      adaptorS: (tb, out) => o.tasks[tb.task]!.adaptorS(tb.batch, out),
    });
    if (this.distillationConfig.isCachingLogits) {
      throw new DistilleryError('CONFIG_INVALID', 'MultiTaskDistiller does not cache logits (batches are sampled)', {
        where: 'distillation.isCachingLogits',
      });
    }
    this.tasks = o.tasks;
    this.teacherSide = new PerTaskTeacher(
      Object.fromEntries(names.map((n) => [n, new LiveTeacher(o.tasks[n]!.teacher, o.tasks[n]!.adaptorT)])),
    );
    this.weights = taskSamplingWeights(
      Object.fromEntries(names.map((n) => [n, o.tasks[n]!.dataloader.length])),
      o.tau ?? 1,
    );
  }

  /** Train for `numSteps` optimizer steps on batches sampled across tasks. */
  override async train(
    opts: Omit<TrainOptions<TaskBatch<B>>, 'dataloader' | 'numEpochs'> & { numSteps?: number },
  ): Promise<TrainResult> {
    const numSteps = opts.numSteps ?? this.trainingConfig.numSteps;
    if (!numSteps)
      throw new DistilleryError('CONFIG_INVALID', 'MultiTaskDistiller trains in steps mode', {
        where: 'training.numSteps',
        hint: 'set training.numSteps',
      });
    const perEpoch = Object.values(this.tasks).reduce((n, t) => n + t.dataloader.length, 0);
    const draw = mulberry32(this.trainingConfig.seed);
    const { tasknames, p } = this.weights;
    const iters = new Map<string, { epoch: number; it: Iterator<B> }>();
    const next = (task: string): B => {
      const src = this.tasks[task]!.dataloader;
      const epochOf = (e: number) =>
        (Array.isArray(src) ? (src as B[]) : (src as { epoch(e: number): Iterable<B> }).epoch(e))[Symbol.iterator]();
      let s = iters.get(task) ?? { epoch: 0, it: epochOf(0) };
      let r = s.it.next();
      if (r.done) {
        s = { epoch: s.epoch + 1, it: epochOf(s.epoch + 1) };
        r = s.it.next();
      }
      iters.set(task, s);
      return r.value as B;
    };
    const sample = (): string => {
      let u = draw();
      for (let i = 0; i < p.length; i++) if ((u -= p[i]!) < 0) return tasknames[i]!;
      return tasknames[tasknames.length - 1]!;
    };
    const dataloader = {
      length: perEpoch,
      *epoch(): Iterable<TaskBatch<B>> {
        for (let i = 0; i < perEpoch; i++) {
          const task = sample();
          yield { task, batch: next(task) };
        }
      },
    };
    return super.train({ ...opts, dataloader, numSteps });
  }
}
