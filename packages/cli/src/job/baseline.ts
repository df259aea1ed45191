/**
 * `distill --baseline [--seeds N]`: did distillation help? For each seed, the same student (same
 * initialisation seed, same data order, same training config and step budget) is trained once with
 * the teacher (the configured distiller) and once without it (BasicTrainer on the hard labels);
 * the KD gain is the accuracy difference, reported as mean ± sample std over seeds.
 */
import { join } from 'node:path';
import { BasicDistiller, BasicTrainer, GeneralDistiller, type DistillModel, type Logger, type PluginRegistry } from '@distillery/core';
import type { JobConfig } from './schema.js';
import type { Kit } from './kits.js';

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
}

/** mean and sample std (n − 1; 0 for one value). */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}

/** The gain block from per-seed accuracies. */
export function kdGain(seeds: number[], distilled: number[], baseline: number[]): KdGain {
  const gain = distilled.map((d, i) => 100 * (d - baseline[i]!));
  return { seeds, distilled, baseline, gain, ...meanStd(gain), wins: gain.filter((g) => g > 0).length };
}

/** "+3.10 ± 0.40 points over 3 seeds (distilled 68.10 %, no KD 65.00 %; KD better in 3/3)". */
export function formatGain(g: KdGain): string {
  const sign = g.mean >= 0 ? '+' : '';
  const d = meanStd(g.distilled.map((x) => 100 * x)).mean;
  const b = meanStd(g.baseline.map((x) => 100 * x)).mean;
  return `${sign}${g.mean.toFixed(2)} ± ${g.std.toFixed(2)} points over ${g.seeds.length} seed${g.seeds.length > 1 ? 's' : ''} (distilled ${d.toFixed(2)} %, no KD ${b.toFixed(2)} %; KD better in ${g.wins}/${g.seeds.length})`;
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
  /** The job's student seed (init and data order) and the accuracy its distilled student reached. */
  firstSeed: number;
  firstAccuracy: number;
  /** Number of seeds (≥ 1). @default 3 */
  seeds?: number;
  /** Folder for the extra runs (`<outputDir>/baseline`). */
  outDir: string;
}

/**
 * Train the no-KD student for every seed, and the distilled student for the seeds after the first
 * (the job already distilled it), all with identical init, data order and budget.
 */
export async function runBaseline<B>(c: BaselineContext<B>): Promise<KdGain> {
  const n = c.seeds ?? 3;
  const seeds = Array.from({ length: n }, (_, k) => c.firstSeed + k);
  const distilled: number[] = [];
  const baseline: number[] = [];
  for (const [k, seed] of seeds.entries()) {
    if (k === 0) distilled.push(c.firstAccuracy);
    else {
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
      await d.train({ dataloader: c.kit.trainSource(seed) });
      distilled.push(await c.evaluate(student));
      student.dispose?.();
    }
    // Same seed → same initial weights and the same batch order; hard labels only, same budget.
    const student = await c.kit.build(c.cfg.student.model, seed, 'student');
    const t = new BasicTrainer({ student, adaptor: c.kit.adaptor, registry: c.registry.child(), trainingConfig: { ...c.cfg.training, outputDir: join(c.outDir, `nokd-seed${seed}`) }, backend: c.backend });
    await t.train({ dataloader: c.kit.trainSource(seed) });
    baseline.push(await c.evaluate(student));
    student.dispose?.();
    c.logger.info(`seed ${seed}: distilled ${(100 * distilled[k]!).toFixed(2)} %, no KD ${(100 * baseline[k]!).toFixed(2)} %`);
  }
  return kdGain(seeds, distilled, baseline);
}
