/**
 * `distill --baseline [--seeds N]`: did distillation help? For each seed, the same student (same
 * initialisation seed, same data order, same training config and step budget) is trained once with
 * the teacher (the configured distiller) and once without it (BasicTrainer on the hard labels);
 * the KD gain is the accuracy difference, reported as mean ± sample std over seeds. With a
 * validation split the same comparison is also made on it (`validation`): choose configurations
 * on that one, and quote the test numbers of the chosen configuration.
 */
import { join } from 'node:path';
import {
  BasicDistiller,
  BasicTrainer,
  GeneralDistiller,
  type DistillModel,
  type Logger,
  type PluginRegistry,
  type TrainResult,
} from '@distillery/core';
import type { JobConfig } from './schema.js';
import type { Kit } from './kits.js';

/** The KD-vs-no-KD comparison on one split. */
export interface SplitGain {
  /** Accuracy of the distilled student per seed (fraction). */
  distilled: number[];
  /** Accuracy of the student trained without the teacher per seed (fraction). */
  baseline: number[];
  /** distilled − baseline per seed, in accuracy points (percent). */
  gain: number[];
  /** Mean gain, points. */
  mean: number;
  /** Sample standard deviation of the gain over seeds, points (0 with one seed). */
  std: number;
  /** Seeds where the distilled student beat the no-KD student. */
  wins: number;
}

/** Accuracy of distilled and no-KD students per seed, and their difference. */
export interface KdGain {
  /** Student seeds (initialisation and data order). */
  seeds: number[];
  /** Test accuracy of the distilled student per seed (fraction). */
  distilled: number[];
  /** Test accuracy of the student trained without the teacher per seed (fraction). */
  baseline: number[];
  /** distilled − baseline per seed, in accuracy points (percent). */
  gain: number[];
  /** Mean gain, points. */
  mean: number;
  /** Sample standard deviation of the gain over seeds, points (0 with one seed). */
  std: number;
  /** Seeds where the distilled student beat the no-KD student. */
  wins: number;
  /** The same comparison on the validation split (when the task has one): select configurations on this. */
  validation?: SplitGain;
}

/** mean and sample std (n − 1; 0 for one value). */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}

/** The comparison on one split from per-seed accuracies. */
export function splitGain(distilled: number[], baseline: number[]): SplitGain {
  const gain = distilled.map((d, i) => 100 * (d - baseline[i]!));
  return { distilled, baseline, gain, ...meanStd(gain), wins: gain.filter((g) => g > 0).length };
}

/** The gain block from per-seed test accuracies (and validation ones, when measured). */
export function kdGain(
  seeds: number[],
  distilled: number[],
  baseline: number[],
  validation?: { distilled: number[]; baseline: number[] },
): KdGain {
  return {
    seeds,
    ...splitGain(distilled, baseline),
    ...(validation ? { validation: splitGain(validation.distilled, validation.baseline) } : {}),
  };
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;

/**
 * "+3.10 ± 0.40 points over 3 seeds on test (distilled 68.10 %, no KD 65.00 %; KD better in 3/3)",
 * then "; validation +2.90 ± 0.30 (…)" when the validation comparison exists.
 */
export function formatGain(g: KdGain): string {
  const n = g.seeds.length;
  const one = (s: SplitGain) => {
    const d = meanStd(s.distilled.map((x) => 100 * x)).mean;
    const b = meanStd(s.baseline.map((x) => 100 * x)).mean;
    return `(distilled ${d.toFixed(2)} %, no KD ${b.toFixed(2)} %; KD better in ${s.wins}/${n})`;
  };
  const test = `${signed(g.mean)} ± ${g.std.toFixed(2)} points over ${n} seed${n > 1 ? 's' : ''} on test ${one(g)}`;
  return g.validation
    ? `${test}; validation ${signed(g.validation.mean)} ± ${g.validation.std.toFixed(2)} ${one(g.validation)}`
    : test;
}

/** What {@link runBaseline} needs from the job that has just distilled its first student. */
export interface BaselineContext<B> {
  cfg: JobConfig;
  kit: Kit<B>;
  teacher: DistillModel<B>;
  registry: PluginRegistry;
  backend: string;
  logger: Logger;
  /** Test accuracy of a model. */
  evaluate(model: DistillModel<B>): Promise<number>;
  /** Validation accuracy of a model (tasks with a validation split). */
  evaluateValidation?(model: DistillModel<B>): Promise<number>;
  /** The job's student seed (init and data order) and the accuracy its distilled student reached. */
  firstSeed: number;
  firstAccuracy: number;
  /** Validation accuracy of the job's distilled student (with evaluateValidation). */
  firstValidationAccuracy?: number;
  /** Give a later seed's distiller the job's teacher cache (the same store: epoch 1 of seed 2 on hits too). */
  attachCache?(distiller: Pick<BasicDistiller<B, never>, 'useTeacherCache'>): void;
  /** Number of seeds (≥ 1). @default 3 */
  seeds?: number;
  /** Folder for the extra runs (`<outputDir>/baseline`). */
  outDir: string;
}

/** What {@link runBaseline} calls on a distiller or a trainer. */
interface Trainable<B> {
  train(o: {
    dataloader: ReturnType<Kit<B>['trainSource']>;
    evaluate?: () => Promise<{ accuracy: number }>;
  }): Promise<TrainResult>;
  loadCheckpoint(path: string): Promise<unknown>;
}

/**
 * Train the no-KD student for every seed, and the distilled student for the seeds after the first
 * (the job already distilled it), all with identical init, data order and budget, and each run's
 * model selected as the job's is (best checkpoint on validation when the task has that split).
 */
export async function runBaseline<B>(c: BaselineContext<B>): Promise<KdGain> {
  const n = c.seeds ?? 3;
  const seeds = Array.from({ length: n }, (_, k) => c.firstSeed + k);
  const distilled: number[] = [];
  const baseline: number[] = [];
  const val = c.evaluateValidation ? { distilled: [] as number[], baseline: [] as number[] } : undefined;
  // The job keeps its student's best checkpoint on validation; every run here is selected the same way.
  const select = (student: DistillModel<B>) =>
    c.evaluateValidation ? { evaluate: async () => ({ accuracy: await c.evaluateValidation!(student) }) } : {};
  /** Train one run, load the checkpoint it selected, record its test (and validation) accuracy. */
  const trainAndScore = async (
    run: Trainable<B>,
    student: DistillModel<B>,
    seed: number,
    to: 'distilled' | 'baseline',
  ) => {
    const r = await run.train({ dataloader: c.kit.trainSource(seed), ...select(student) });
    if (r.best?.path) await run.loadCheckpoint(r.best.path);
    (to === 'distilled' ? distilled : baseline).push(await c.evaluate(student));
    if (val) val[to].push(r.best?.path ? r.best.value : await c.evaluateValidation!(student));
  };
  for (const [k, seed] of seeds.entries()) {
    if (k === 0) {
      distilled.push(c.firstAccuracy);
      if (val) val.distilled.push(c.firstValidationAccuracy ?? Number.NaN);
    } else {
      const student = await c.kit.build(c.cfg.student.model, seed, 'student');
      const Strategy = c.cfg.distillation.intermediateMatches.length ? GeneralDistiller : BasicDistiller;
      const d = new Strategy({
        student,
        teacher: c.teacher as DistillModel<B, never>,
        adaptorS: c.kit.adaptor,
        adaptorT: c.kit.adaptor,
        registry: c.registry.child(),
        trainingConfig: { ...c.cfg.training, outputDir: join(c.outDir, `distilled-seed${seed}`) },
        distillationConfig: c.cfg.distillation,
        backend: c.backend,
      });
      c.attachCache?.(d);
      await trainAndScore(d, student, seed, 'distilled');
      student.dispose?.();
    }
    // Same seed → same initial weights and the same batch order; hard labels only, same budget.
    const student = await c.kit.build(c.cfg.student.model, seed, 'student');
    const t = new BasicTrainer({
      student,
      adaptor: c.kit.adaptor,
      registry: c.registry.child(),
      trainingConfig: { ...c.cfg.training, outputDir: join(c.outDir, `nokd-seed${seed}`) },
      backend: c.backend,
    });
    await trainAndScore(t, student, seed, 'baseline');
    student.dispose?.();
    const v = val
      ? ` (validation: distilled ${(100 * val.distilled[k]!).toFixed(2)} %, no KD ${(100 * val.baseline[k]!).toFixed(2)} %)`
      : '';
    c.logger.info(
      `seed ${seed}: test: distilled ${(100 * distilled[k]!).toFixed(2)} %, no KD ${(100 * baseline[k]!).toFixed(2)} %${v}`,
    );
  }
  return kdGain(seeds, distilled, baseline, val);
}
