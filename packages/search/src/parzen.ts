/**
 * A univariate Parzen estimator as in Optuna's TPE: a mixture of truncated normals on [low, high]
 * (in log space for log parameters, widened by ±0.5 for integers) centred on the observations, plus
 * a wide prior component; bandwidths from neighbour distances, clipped by the "magic clip".
 */
import { gaussian, logSumExp, normCdf, normLogPdf } from './math.js';

/** Options (Optuna's defaults). */
export interface ParzenOptions {
  /** Add a prior component at the centre with σ = high − low. @default true */
  considerPrior?: boolean;
  /** Prior component weight. @default 1 */
  priorWeight?: number;
  /** Lower bound on σ of (high − low) / min(100, 1 + n). @default true */
  magicClip?: boolean;
}

export class ParzenEstimator {
  readonly mus: number[];
  readonly sigmas: number[];
  readonly weights: number[];
  private readonly logZ: number[];

  /** `xs` in the internal (log / widened) space; `w` per observation, unnormalised. */
  constructor(
    xs: readonly number[],
    w: readonly number[],
    readonly low: number,
    readonly high: number,
    o: ParzenOptions = {},
  ) {
    const considerPrior = o.considerPrior ?? true;
    const range = high - low || 1;
    const mus = [...xs];
    const weights = [...w];
    const n = mus.length;
    // Bandwidths: the larger gap to a sorted neighbour, the domain bounds as outer neighbours.
    const order = mus.map((_, i) => i).sort((a, b) => mus[a]! - mus[b]!);
    const sorted = order.map((i) => mus[i]!);
    const withEnds = [low, ...sorted, high];
    const sig = new Array<number>(n);
    for (let k = 0; k < n; k++) sig[k] = Math.max(withEnds[k + 1]! - withEnds[k]!, withEnds[k + 2]! - withEnds[k + 1]!);
    // consider_endpoints=False: the outermost observations use their inner gap only.
    if (n >= 2) {
      sig[0] = withEnds[2]! - withEnds[1]!;
      sig[n - 1] = withEnds[n]! - withEnds[n - 1]!;
    }
    const sigmas = new Array<number>(n);
    order.forEach((i, k) => (sigmas[i] = sig[k]!));
    const minSigma = (o.magicClip ?? true) ? range / Math.min(100, 1 + n + (considerPrior ? 1 : 0)) : 1e-12;
    for (let i = 0; i < n; i++) sigmas[i] = Math.min(range, Math.max(minSigma, sigmas[i]!));
    if (considerPrior || n === 0) {
      mus.push(0.5 * (low + high));
      sigmas.push(range);
      weights.push(o.priorWeight ?? 1);
    }
    const total = weights.reduce((a, b) => a + b, 0);
    this.mus = mus;
    this.sigmas = sigmas;
    this.weights = weights.map((x) => x / total);
    this.logZ = mus.map((m, i) =>
      Math.log(Math.max(1e-300, normCdf((high - m) / sigmas[i]!) - normCdf((low - m) / sigmas[i]!))),
    );
  }

  /** Draw from the mixture (component by weight, then a truncated normal by rejection with an inverse-CDF fallback). */
  sample(rand: () => number): number {
    let u = rand();
    let k = 0;
    while (k < this.weights.length - 1 && u >= this.weights[k]!) u -= this.weights[k++]!;
    const mu = this.mus[k]!;
    const s = this.sigmas[k]!;
    for (let tries = 0; tries < 64; tries++) {
      const x = mu + s * gaussian(rand);
      if (x >= this.low && x <= this.high) return x;
    }
    return Math.min(this.high, Math.max(this.low, mu));
  }

  /** log density at x (continuous parameters). */
  logPdf(x: number): number {
    return logSumExp(
      this.mus.map((m, i) => Math.log(this.weights[i]!) + normLogPdf(x, m, this.sigmas[i]!) - this.logZ[i]!),
    );
  }

  /** log probability mass of [a, b] (integer parameters: the bin around an integer). */
  logMass(a: number, b: number): number {
    return logSumExp(
      this.mus.map((m, i) => {
        const s = this.sigmas[i]!;
        const p = normCdf((b - m) / s) - normCdf((a - m) / s);
        return Math.log(this.weights[i]!) + Math.log(Math.max(1e-300, p)) - this.logZ[i]!;
      }),
    );
  }
}
