/**
 * Samplers: where the next trial looks. RandomSampler draws independently (uniform, or
 * log-uniform); TpeSampler is Optuna's default Tree-structured Parzen Estimator (independent
 * per-parameter TPE): after `nStartupTrials` random trials it splits finished trials into the best
 * γ(n) ("below", l(x)) and the rest ("above", g(x)), samples `nEiCandidates` candidates from l,
 * and keeps the one with the largest l(x)/g(x).
 */
import { mulberry32 } from '@distillery/core';
import { ParzenEstimator, type ParzenOptions } from './parzen.js';
import { mixSeed } from './math.js';
import { clampParam, type ParamSpec, type Params, type SearchSpace } from './space.js';
import { lastIntermediate, steps, type Trial } from './trial.js';

/** Chooses the parameters of a new trial from the finished ones. */
export interface Sampler {
  readonly name: string;
  /** Parameters of trial `number` (deterministic given the seed, the number and `trials`). */
  sample(space: SearchSpace, trials: readonly Trial[], number: number): Params;
}

/** The optimisation direction of a study. */
export type Direction = 'maximize' | 'minimize';

/** Internal coordinates: log for log parameters; integers widened by ±0.5 so each has a bin. */
function bounds(p: ParamSpec): [number, number] {
  const lo = p.log ? Math.log(p.low) : p.low;
  const hi = p.log ? Math.log(p.high) : p.high;
  return p.type === 'int' && !p.log ? [lo - 0.5, hi + 0.5] : [lo, hi];
}
const toInternal = (p: ParamSpec, v: number) => (p.log ? Math.log(v) : v);
const fromInternal = (p: ParamSpec, x: number) => clampParam(p, p.log ? Math.exp(x) : x);

/** Uniform (or log-uniform) draws. */
export class RandomSampler implements Sampler {
  readonly name = 'random';
  constructor(private readonly seed = 0) {}
  sample(space: SearchSpace, _trials: readonly Trial[], number: number): Params {
    const rand = mulberry32(mixSeed(this.seed, number));
    const out: Params = {};
    for (const [n, p] of Object.entries(space)) {
      const [lo, hi] = bounds(p);
      out[n] = fromInternal(p, lo + rand() * (hi - lo));
    }
    return out;
  }
}

/** Options of {@link TpeSampler} (Optuna's defaults). */
export interface TpeOptions extends ParzenOptions {
  /** Random trials before TPE starts. @default 10 */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per parameter. @default 24 */
  nEiCandidates?: number;
  /** Size of the "below" group for n finished trials. @default n => min(ceil(0.1 n), 25) */
  gamma?: (n: number) => number;
  /** Observation weights, oldest first. @default Optuna's default_weights (ramp for old trials past 25) */
  weights?: (n: number) => number[];
  /** @default "maximize" */
  direction?: Direction;
  /** @default 0 */
  seed?: number;
}

/** Optuna's default_gamma. */
export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

/** Optuna's default_weights: flat up to 25 observations, then a linear ramp from 1/n over the oldest n − 25. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = Array.from({ length: n - 25 }, (_, i) => 1 / n + ((1 - 1 / n) * i) / Math.max(1, n - 25 - 1));
  return [...ramp, ...new Array<number>(25).fill(1)];
}

export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  private readonly o: Required<Omit<TpeOptions, keyof ParzenOptions>> & ParzenOptions;
  private readonly random: RandomSampler;

  constructor(o: TpeOptions = {}) {
    this.o = {
      nStartupTrials: 10,
      nEiCandidates: 24,
      gamma: defaultGamma,
      weights: defaultWeights,
      direction: 'maximize',
      seed: 0,
      ...o,
    };
    this.random = new RandomSampler(this.o.seed);
  }

  /**
   * Finished trials ranked best first: complete ones by value, then pruned ones (further along the
   * curve first, then by their last reported value) — Optuna ranks pruned trials below complete ones.
   */
  private ranked(trials: readonly Trial[]): Trial[] {
    const sign = this.o.direction === 'maximize' ? -1 : 1;
    const done = trials.filter((t) => t.state === 'complete' && t.value !== undefined && Number.isFinite(t.value));
    const pruned = trials.filter((t) => t.state === 'pruned' && lastIntermediate(t) !== undefined);
    done.sort((a, b) => sign * (a.value! - b.value!));
    pruned.sort(
      (a, b) => (steps(b).at(-1) ?? 0) - (steps(a).at(-1) ?? 0) || sign * (lastIntermediate(a)! - lastIntermediate(b)!),
    );
    return [...done, ...pruned];
  }

  sample(space: SearchSpace, trials: readonly Trial[], number: number): Params {
    const ranked = this.ranked(trials);
    if (ranked.length < this.o.nStartupTrials) return this.random.sample(space, trials, number);
    const rand = mulberry32(mixSeed(this.o.seed ^ 0x5bd1e995, number));
    const nBelow = this.o.gamma(ranked.length);
    const belowSet = new Set(ranked.slice(0, nBelow));
    // Weights follow trial age (oldest first), as in Optuna.
    const byAge = [...ranked].sort((a, b) => a.number - b.number);
    const below = byAge.filter((t) => belowSet.has(t));
    const above = byAge.filter((t) => !belowSet.has(t));
    const out: Params = {};
    for (const [name, p] of Object.entries(space)) {
      const [lo, hi] = bounds(p);
      const obs = (ts: Trial[]) => ts.filter((t) => name in t.params).map((t) => toInternal(p, t.params[name]!));
      const xb = obs(below);
      const xa = obs(above);
      const l = new ParzenEstimator(xb, this.o.weights(xb.length), lo, hi, this.o);
      const g = new ParzenEstimator(xa, this.o.weights(xa.length), lo, hi, this.o);
      let best = NaN;
      let bestScore = -Infinity;
      for (let c = 0; c < this.o.nEiCandidates; c++) {
        let x = l.sample(rand);
        let score: number;
        if (p.type === 'int') {
          // Score integers by the probability mass of their bin (in internal space).
          const v = fromInternal(p, x);
          const a = p.log ? Math.log(Math.max(p.low, v - 0.5)) : v - 0.5;
          const b = p.log ? Math.log(Math.min(p.high, v + 0.5)) : v + 0.5;
          score = l.logMass(a, b) - g.logMass(a, b);
          x = toInternal(p, v);
        } else {
          score = l.logPdf(x) - g.logPdf(x);
        }
        if (score > bestScore) {
          bestScore = score;
          best = x;
        }
      }
      out[name] = fromInternal(p, best);
    }
    return out;
  }
}
