/**
 * `distillation.stages` in a CLI job: {@link trainStages} reported like one run (steps summed, the last stage's
 * losses), the best checkpoint over the evaluated stages, and where a stop happened.
 * @packageDocumentation
 */
import {
  loadCheckpoint,
  trainStages,
  type DistillModel,
  type StageBest,
  type StagesOptions,
  type TrainResult,
} from '@distillery/core';

/** A staged run's result: the summed {@link TrainResult}, its best checkpoint, and the stage a stop happened in. */
export interface StagedRun {
  result: TrainResult;
  /** The best evaluation over every evaluated stage (the stage is named). */
  best?: StageBest;
  /** The stage that was stopped (a signal, a hook), with its name and the step inside it. */
  stopped?: { index: number; name: string; step: number };
}

/** Run the stages; see {@link StagedRun}. */
export async function runStages<B>(o: StagesOptions<B>): Promise<StagedRun> {
  const { results, stoppedIn, best } = await trainStages(o);
  const ran = results.filter((x): x is TrainResult => !!x);
  const steps = ran.reduce((n, x) => n + x.globalStep, 0);
  const last = ran.at(-1);
  // A stop before any stage ran (the signal came during the teacher's evaluation) still reports as a stop.
  const result: TrainResult = {
    ...(last ?? { lastLosses: {}, lastLoss: NaN, metricsFile: '' }),
    globalStep: steps,
    totalSteps: steps,
    durationMs: ran.reduce((n, x) => n + x.durationMs, 0),
    checkpoints: ran.flatMap((x) => x.checkpoints),
    // Selection is across stages: the best of the evaluated stages, not the last stage's own best.
    best,
    ...(stoppedIn !== undefined ? { stopReason: last?.stopReason ?? 'interrupted' } : {}),
  };
  const stoppedRun = stoppedIn !== undefined ? results[stoppedIn] : undefined;
  return {
    result,
    ...(best ? { best } : {}),
    ...(stoppedIn !== undefined
      ? {
          stopped: {
            index: stoppedIn,
            name: o.stages[stoppedIn]!.name ?? `stage-${stoppedIn}`,
            step: stoppedRun?.globalStep ?? 0,
          },
        }
      : {}),
  };
}

/**
 * Load the student of a stage checkpoint. Only the student: the stage's projections belong to that stage's
 * matches, not to the run's top-level ones, and checkpoints hold every student parameter, frozen ones included.
 */
export async function loadStageStudent<B>(student: DistillModel<B>, path: string): Promise<void> {
  await loadCheckpoint(path, new Map(Object.entries(student.parameters())));
}
