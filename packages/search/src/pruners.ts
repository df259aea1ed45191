/**
 * Pruners stop unpromising trials early from their evaluation curve (values reported at steps).
 * MedianPruner (Optuna semantics): prune when the trial's best value so far is worse than the
 * median of finished trials at the same step. SuccessiveHalvingPruner (asynchronous successive
 * halving, as Optuna's): rung k sits at step minResource·η^(k+s); a trial reaching it continues
 * only if its value is in the top 1/η of all trials that reached that rung.
 */
import type { Direction } from './samplers.js';
import { steps, type Trial } from './trial.js';

/** Decides whether a running trial stops. Returns a reason to prune, or undefined to continue. */
export interface Pruner {
  readonly name: string;
  prune(trial: Trial, trials: readonly Trial[], direction: Direction): string | undefined;
}

/** Never prunes. */
export class NopPruner implements Pruner {
  readonly name = 'none';
  prune(): undefined {
    return undefined;
  }
}

const better = (d: Direction, a: number, b: number) => (d === 'maximize' ? a > b : a < b);

/** Options of {@link MedianPruner}. */
export interface MedianPrunerOptions {
  /** No pruning until this many trials completed. @default 5 */
  nStartupTrials?: number;
  /** No pruning before this step. @default 0 */
  nWarmupSteps?: number;
}

export class MedianPruner implements Pruner {
  readonly name = 'median';
  constructor(private readonly o: MedianPrunerOptions = {}) {}

  prune(trial: Trial, trials: readonly Trial[], direction: Direction): string | undefined {
    const complete = trials.filter((t) => t.state === 'complete' && t.number !== trial.number);
    if (complete.length < (this.o.nStartupTrials ?? 5)) return undefined;
    const s = steps(trial).at(-1);
    if (s === undefined || s < (this.o.nWarmupSteps ?? 0)) return undefined;
    const others = complete
      .map((t) => t.intermediate[String(s)])
      .filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (!others.length) return undefined;
    others.sort((a, b) => a - b);
    const m =
      others.length % 2
        ? others[(others.length - 1) / 2]!
        : 0.5 * (others[others.length / 2 - 1]! + others[others.length / 2]!);
    const mine = Object.values(trial.intermediate).filter(Number.isFinite);
    const best = direction === 'maximize' ? Math.max(...mine) : Math.min(...mine);
    return better(direction, m, best)
      ? `best value ${best.toFixed(4)} is worse than the median ${m.toFixed(4)} of ${others.length} completed trials at step ${s}`
      : undefined;
  }
}

/** Options of {@link SuccessiveHalvingPruner}. */
export interface SuccessiveHalvingOptions {
  /** Step of the first rung; "auto": the smallest step any trial reported (the first evaluation). @default "auto" */
  minResource?: number | 'auto';
  /** η: keep the top 1/η at each rung. @default 4 */
  reductionFactor?: number;
  /** s: the first rung is at minResource·η^s. @default 0 */
  minEarlyStoppingRate?: number;
}

export class SuccessiveHalvingPruner implements Pruner {
  readonly name = 'halving';
  constructor(private readonly o: SuccessiveHalvingOptions = {}) {}

  /** The value a trial had when it reached a rung step (its first report at or after it). */
  private static valueAt(t: Trial, rungStep: number): number | undefined {
    const s = steps(t).find((x) => x >= rungStep);
    return s === undefined ? undefined : t.intermediate[String(s)];
  }

  prune(trial: Trial, trials: readonly Trial[], direction: Direction): string | undefined {
    const eta = this.o.reductionFactor ?? 4;
    const auto = Math.min(...trials.flatMap((t) => steps(t)));
    const r = this.o.minResource === undefined || this.o.minResource === 'auto' ? auto : this.o.minResource;
    if (!Number.isFinite(r) || r <= 0) return undefined;
    const last = steps(trial).at(-1);
    if (last === undefined) return undefined;
    for (let k = 0; ; k++) {
      const rungStep = r * eta ** (k + (this.o.minEarlyStoppingRate ?? 0));
      if (rungStep > last) return undefined;
      const value = SuccessiveHalvingPruner.valueAt(trial, rungStep)!;
      const competing = [
        value,
        ...trials.filter((t) => t.number !== trial.number).map((t) => SuccessiveHalvingPruner.valueAt(t, rungStep)),
      ].filter((v): v is number => v !== undefined && Number.isFinite(v));
      // Optuna: with fewer than η competitors only the best is promoted (no trial is ever suspended).
      const idx = Math.max(0, Math.floor(competing.length / eta) - 1);
      competing.sort((a, b) => (direction === 'maximize' ? b - a : a - b));
      const threshold = competing[idx]!;
      if (better(direction, threshold, value))
        return `value ${value.toFixed(4)} at rung ${k} (step ≥ ${rungStep}) is not in the top 1/${eta} of ${competing.length} trials (needs ${threshold.toFixed(4)})`;
    }
  }
}
