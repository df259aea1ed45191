/**
 * Progressive (multi-stage) distillation, MobileBERT-style: stages run in order on the same student, each a
 * complete run of an ordinary trainer (its own matches, loss weights, LR schedule with its own warm-up,
 * frozen parameters and checkpoint folder `outputDir/stage-<i>`). Nothing in the loop changes: a stage is a
 * `train()` call.
 *
 * Resume across stage boundaries: when stage i ends, the student's full weights are written to
 * `stage-<i>/student.safetensors` and `stages.json` records the stage as done (both atomically). A resumed
 * run skips done stages, loads the last done stage's weights (frozen parameters included: they are not in a
 * stage's own checkpoints) and continues the current stage from its newest checkpoint, exactly.
 * @packageDocumentation
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { DistillModel } from '../model/types.js';
import type { IntermediateMatch, LrSchedulerConfig } from '../config/schema.js';
import { readSafetensors, writeSafetensors, type SafetensorsInput } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { newestCheckpoint } from '../checkpoint/folder.js';
import { DistilleryError } from '../util/errors.js';
import type { TrainerBase, TrainOptions, TrainResult } from './trainer-base.js';
import type { BestInfo } from '../loop/types.js';

/** One stage of `distillation.stages`. */
export interface StageSpec {
  /** A label for logs and stages.json. @default "stage-<i>" */
  name?: string;
  /** Optimizer steps of this stage (or numEpochs). */
  numSteps?: number;
  /** Epochs of this stage (or numSteps). */
  numEpochs?: number;
  /** The stage's intermediate matches (replace the run's). */
  intermediateMatches?: IntermediateMatch[] | Record<string, unknown>[];
  /** The stage's KD weight (replaces the run's). */
  kdLossWeight?: number;
  /** The stage's hard-label weight (replaces the run's). */
  hardLabelWeight?: number;
  /** Student parameters this stage does not train (name segments, e.g. `["embeddings", "layer.0"]`). */
  freeze?: string[];
  /** `freezeBelow: k` = freeze the embeddings and layers 0..k-1. */
  freezeBelow?: number;
  /** The stage's LR schedule (warm-up counted from the stage's first step); default: the run's. */
  lrScheduler?: Partial<LrSchedulerConfig>;
  /** The stage's learning rate; default: the run's. */
  lr?: number;
}

/** What {@link trainStages} needs. */
export interface StagesOptions<B> {
  stages: readonly StageSpec[];
  /** Root folder: `stage-<i>/` per stage, `stages.json`. */
  outputDir: string;
  student: DistillModel<B>;
  /** Build the trainer of stage i (its config from the stage, output folder `dir`, `freeze` = {@link stageFreeze}). */
  makeTrainer: (stage: StageSpec, index: number, dir: string, freeze: string[]) => TrainerBase<B>;
  /** train() options shared by every stage (dataloader, hooks, evaluate …). */
  train: Omit<TrainOptions<B>, 'resumeFrom' | 'numSteps' | 'numEpochs'>;
  /** Continue a previous run in `outputDir`. @default false */
  resume?: boolean;
}

/** The best evaluation of a staged run, and the stage it was made in. */
export interface StageBest extends BestInfo {
  /** Index of the stage whose checkpoint this is. */
  stage: number;
  stageName: string;
}

/** Result: per stage the train() summary (undefined for stages skipped as already done). */
export interface StagesResult {
  results: (TrainResult | undefined)[];
  /** Index of the stage that stopped early (a hook's control.stop, a signal), if any. */
  stoppedIn?: number;
  /**
   * The best evaluation over every stage that was evaluated (done stages of a resumed run included), by the
   * stages' `training.metricForBest`. Stages that train no output loss are not evaluated, so they are never it.
   */
  best?: StageBest;
}

interface StagesFile {
  /** `best`: the stage's best evaluation; `greaterIsBetter`: its metric's direction (to compare across stages on resume). */
  done: {
    index: number;
    name: string;
    globalStep: number;
    weights: string;
    best?: BestInfo;
    greaterIsBetter?: boolean;
  }[];
}

/** The freeze list of a stage: `freeze` plus, for `freezeBelow: k`, `embeddings` and `layer.0` … `layer.{k-1}`. */
export function stageFreeze(s: StageSpec): string[] {
  const out = [...(s.freeze ?? [])];
  if (s.freezeBelow !== undefined)
    out.push('embeddings', ...Array.from({ length: s.freezeBelow }, (_, i) => `layer.${i}`));
  return out;
}

/**
 * The training and distillation configs of a stage: the run's, with the stage's matches, weights, LR and LR
 * schedule in place (step counts come from the stage through `train()`).
 */
export function stageConfigs<T extends Record<string, unknown>, D extends Record<string, unknown>>(
  training: T,
  distillation: D,
  s: StageSpec,
): { training: T; distillation: D } {
  const t: Record<string, unknown> = { ...training, numSteps: undefined, numEpochs: undefined };
  // A stage that trains no output loss is not evaluated (see trainStages): early stopping has nothing to watch.
  if (!stageTrainsOutputs(distillation, s)) t.earlyStopping = undefined;
  if (s.lr !== undefined) t.optimizer = { ...(training.optimizer ?? {}), lr: s.lr };
  if (s.lrScheduler) t.lrScheduler = { ...(training.lrScheduler ?? {}), ...s.lrScheduler };
  const { stages: _all, ...rest } = distillation;
  const d: Record<string, unknown> = { ...rest };
  if (s.intermediateMatches) d.intermediateMatches = s.intermediateMatches;
  if (s.kdLossWeight !== undefined) d.kdLossWeight = s.kdLossWeight;
  if (s.hardLabelWeight !== undefined) d.hardLabelWeight = s.hardLabelWeight;
  return { training: t as T, distillation: d as D };
}

/**
 * Whether a stage's loss reaches the student's outputs: its KD or hard-label weight (the stage's, else the run's,
 * else the schema defaults kdLossWeight 1 / hardLabelWeight 0) is positive, or the run schedules one of them.
 */
export function stageTrainsOutputs(distillation: Record<string, unknown>, s: StageSpec): boolean {
  const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d);
  const scheduled = (v: unknown) => typeof v === 'string' && v !== 'none';
  return (
    num(s.kdLossWeight ?? distillation.kdLossWeight, 1) > 0 ||
    num(s.hardLabelWeight ?? distillation.hardLabelWeight, 0) > 0 ||
    scheduled(distillation.kdLossWeightScheduler) ||
    scheduled(distillation.hardLabelWeightScheduler)
  );
}

/** Validate stages: each needs numSteps or numEpochs (not both). Errors name `distillation.stages[i]`. */
export function checkStages(stages: readonly StageSpec[]): void {
  if (!stages.length)
    throw new DistilleryError('CONFIG_INVALID', 'distillation.stages is empty', {
      where: 'distillation.stages',
      hint: 'give at least one stage, or remove the field',
    });
  stages.forEach((s, i) => {
    const where = `distillation.stages[${i}]`;
    if ((s.numSteps === undefined) === (s.numEpochs === undefined)) {
      throw new DistilleryError('CONFIG_INVALID', 'a stage needs exactly one of numSteps and numEpochs', {
        where,
        hint: 'e.g. { "numSteps": 200, ... }',
      });
    }
    for (const k of ['numSteps', 'numEpochs', 'freezeBelow'] as const) {
      const v = s[k];
      if (v !== undefined && (!Number.isInteger(v) || v < (k === 'freezeBelow' ? 0 : 1)))
        throw new DistilleryError(
          'CONFIG_INVALID',
          `${k} must be a ${k === 'freezeBelow' ? 'non-negative' : 'positive'} integer, got ${v}`,
          { where: `${where}.${k}` },
        );
    }
  });
}

/** Run the stages in order (see the module comment for folders and resume). */
export async function trainStages<B>(o: StagesOptions<B>): Promise<StagesResult> {
  checkStages(o.stages);
  const file = join(o.outputDir, 'stages.json');
  const state: StagesFile =
    o.resume && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StagesFile) : { done: [] };
  const results: (TrainResult | undefined)[] = [];
  let best: StageBest | undefined;
  const consider = (b: BestInfo | undefined, i: number, name: string, greaterIsBetter: boolean) => {
    if (b?.path && (!best || (greaterIsBetter ? b.value > best.value : b.value < best.value)))
      best = { ...b, stage: i, stageName: name };
  };
  const last = state.done.at(-1);
  if (last) await loadStudentWeights(o.student, join(o.outputDir, last.weights));
  for (let i = 0; i < o.stages.length; i++) {
    const stage = o.stages[i]!;
    const name = stage.name ?? `stage-${i}`;
    const done = state.done.find((d) => d.index === i);
    const dir = join(o.outputDir, `stage-${i}`);
    if (done) {
      consider(done.best, i, name, done.greaterIsBetter ?? true);
      results.push(undefined);
      continue;
    }
    // Stopped between stages (during the previous stage's last evaluation or its weights' write): do not start this one.
    if (o.train.signal?.aborted) return { results, stoppedIn: i, best };
    const trainer = o.makeTrainer(stage, i, dir, stageFreeze(stage));
    const tc = trainer.trainingConfig;
    const greaterIsBetter = tc.greaterIsBetter ?? !/loss/i.test(tc.metricForBest);
    // A stage whose loss does not reach the outputs leaves them as they were (untrained, in MobileBERT's first
    // stages): its evaluations would measure nothing and could be picked as the best model. Not evaluated.
    const evaluates = trainer.trainsOutputs();
    if (!evaluates && o.train.evaluate)
      trainer.logger.info(
        `${name}: no evaluation in this stage (kdLossWeight and hardLabelWeight are 0: the outputs are not trained)`,
      );
    const resumeFrom = o.resume ? newestCheckpoint(dir) : undefined;
    const r = await trainer.train({
      ...o.train,
      ...(evaluates ? {} : { evaluate: undefined }),
      numSteps: stage.numSteps,
      numEpochs: stage.numEpochs,
      resumeFrom,
      // The stage is part of the guarded config: a checkpoint of stage 2 does not resume stage 3.
      runConfig: { stage: { index: i, name, ...stage }, run: o.train.runConfig ?? null },
    });
    results.push(r);
    consider(r.best, i, name, greaterIsBetter);
    // The stage's own variables (projections) are not needed after it: the student carries on.
    (trainer as { dispose?: () => void }).dispose?.();
    if (r.stopReason || r.globalStep < r.totalSteps) return { results, stoppedIn: i, best };
    const weights = `stage-${i}/student.safetensors`;
    await saveStudentWeights(o.student, join(o.outputDir, weights));
    state.done.push({
      index: i,
      name,
      globalStep: r.globalStep,
      weights,
      ...(r.best?.path ? { best: r.best, greaterIsBetter } : {}),
    });
    await writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n');
  }
  return { results, best };
}

async function saveStudentWeights(student: DistillModel<unknown>, path: string): Promise<void> {
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [n, v] of Object.entries(student.parameters()))
    tensors[n] = { data: (await v.data()) as Float32Array, shape: v.shape, dtype: 'F32' };
  await writeSafetensors(path, tensors, { format: 'pt', distillery: 'stage-weights' });
}

async function loadStudentWeights(student: DistillModel<unknown>, path: string): Promise<void> {
  const file = await readSafetensors(path);
  for (const [n, v] of Object.entries(student.parameters())) {
    const t = file.tensors.get(n);
    if (!t)
      throw new DistilleryError('CHECKPOINT_MISMATCH', `parameter "${n}" is missing from the stage weights`, {
        where: path,
        hint: 'the student differs from the one the stages were run with',
      });
    const x = tf.tensor(t.data, t.shape, 'float32');
    v.assign(x);
    x.dispose();
  }
}
