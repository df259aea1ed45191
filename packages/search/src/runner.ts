/**
 * The in-process trial runner: ask → objective → tell until the study holds `nTrials` finished
 * trials (so a resumed search continues where it stopped). The objective gets a handle to report
 * intermediate values; when the pruner says stop, the handle's signal aborts and the trial is told
 * "pruned". A queued runner (several machines) drives the same ask/report/tell calls.
 */
import { DistilleryError } from '@distillery/core';
import type { Params } from './space.js';
import type { Study } from './study.js';
import type { Trial } from './trial.js';

/** What an objective sees of its trial. */
export interface TrialHandle {
  readonly number: number;
  readonly params: Params;
  /** Aborted once the trial is pruned: stop training soon. */
  readonly signal: AbortSignal;
  /** Report an intermediate value; returns true when the trial should stop (it is then pruned). */
  report(step: number, value: number): boolean;
}

/** Thrown by objectives that stop on their own after pruning (optional: returning also works). */
export class TrialPruned extends Error {
  constructor(message = 'trial pruned') {
    super(message);
    this.name = 'TrialPruned';
  }
}

/** Options of {@link optimize}. */
export interface OptimizeOptions {
  /** Total finished trials the study should hold. */
  nTrials: number;
  /** Called after each finished trial. */
  onTrial?: (t: Trial, study: Study) => void;
}

/** Run trials in this process. An objective error marks the trial failed and is re-thrown. */
export async function optimize(
  study: Study,
  objective: (t: TrialHandle) => Promise<number>,
  o: OptimizeOptions,
): Promise<Trial | undefined> {
  if (!Number.isInteger(o.nTrials) || o.nTrials < 1)
    throw new DistilleryError('USAGE', `the number of trials must be a positive integer, got ${o.nTrials}`, {
      where: '--trials',
    });
  while (study.finished < o.nTrials) {
    const asked = study.ask();
    const ac = new AbortController();
    let pruneReason: string | undefined;
    const handle: TrialHandle = {
      number: asked.number,
      params: asked.params,
      signal: ac.signal,
      report: (step, value) => {
        if (pruneReason) return true;
        study.report(asked.number, step, value);
        pruneReason = study.shouldPrune(asked.number);
        if (pruneReason) ac.abort(new TrialPruned(pruneReason));
        return pruneReason !== undefined;
      },
    };
    let t: Trial;
    try {
      const value = await objective(handle);
      t = study.tell(asked.number, pruneReason ? { state: 'pruned', message: pruneReason } : value);
    } catch (e) {
      if (e instanceof TrialPruned || pruneReason) {
        t = study.tell(asked.number, { state: 'pruned', message: pruneReason ?? (e as Error).message });
      } else {
        study.tell(asked.number, { state: 'fail', message: (e as Error).message });
        throw e;
      }
    }
    o.onTrial?.(t, study);
  }
  return study.best;
}
