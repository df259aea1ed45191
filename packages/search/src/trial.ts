/** Trials as stored in a study file. */
import type { Params } from './space.js';

/** A trial's state: asked and not told yet (`running`), finished, pruned early, or failed. */
export type TrialState = 'running' | 'complete' | 'pruned' | 'fail';

/** One trial. `intermediate` maps a step (e.g. optimizer step of an evaluation) to the value reported there. */
export interface Trial {
  number: number;
  params: Params;
  state: TrialState;
  /** Final objective value (complete trials). */
  value?: number;
  intermediate: Record<string, number>;
  /** ISO times. */
  start: string;
  end?: string;
  /** Failure message, or why a trial was pruned. */
  message?: string;
  /** Who runs it (process id, host) — for queued trials on several machines. */
  worker?: string;
}

/** Steps with reported values, ascending. */
export function steps(t: Trial): number[] {
  return Object.keys(t.intermediate)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The last reported value (the ranking value of a pruned trial). */
export function lastIntermediate(t: Trial): number | undefined {
  const s = steps(t);
  return s.length ? t.intermediate[String(s.at(-1))] : undefined;
}
