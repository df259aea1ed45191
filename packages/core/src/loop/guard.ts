/**
 * Divergence guard: right before each optimizer step, check the accumulated loss terms and the
 * gradients, so a diverged step is never applied and never checkpointed. The gradient check is the
 * global norm itself — √Σg² is NaN/Inf as soon as one gradient is — so it costs one fused reduction
 * and one scalar read-back (the same one the norm already needed for clipping and logging). The
 * loss terms were already read back per batch. Parameters are checked where they are read anyway:
 * when a checkpoint is written ({@link assertFiniteTensors}) and when a model is loaded.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '../util/errors.js';
import { DistillerySumSquares, runFusedKernel } from '../kernels/names.js';
import type { Logger } from '../plugin/types.js';

/** The training options the guard reads. */
export interface GuardConfig {
  /** `"stop"` the run (default) or `"skip"` the batch group (no update) on a non-finite or too-large step. */
  onNonFinite: 'stop' | 'skip';
  /** Stop/skip when the global gradient norm (before clipping) exceeds this; null disables. */
  gradNormCeiling: number | null;
  /** Clip the global norm to this when > 0 (the guard clips with the norm it computed). */
  maxGradNorm: number;
}

/** What the loop hands the guard before an optimizer step. */
export interface StepCheckInput {
  /** Accumulated gradients by parameter name (clipped in place when `maxGradNorm` > 0). */
  accum: Map<string, tf.Tensor>;
  /** Sums over the group's batches of each loss term, `__total` = the weighted total. */
  sums: Record<string, number>;
  /** Batches in the group. */
  nInGroup: number;
  globalStep: number;
  epoch: number;
  /** Running batch counter (from 0) of the group's last batch. */
  afterCounter: number;
}

/** The guard's verdict: skip the update, or apply it (with the global norm, already clipped). */
export type StepVerdict = { skip: true } | { skip: false; gradNorm: number };

/** After this many consecutive skipped steps the run stops: every batch is bad. */
export const MAX_CONSECUTIVE_SKIPS = 20;

/** Loss terms that only involve the student (everything else also reads the teacher). */
const studentOnly = (term: string) => /hard_label/.test(term);

/**
 * Global norm of `grads`: one reduction and one read-back; NaN/Inf when any gradient is non-finite. On a backend
 * with the `DistillerySumSquares` kernel (native) that is one kernel call instead of a Square and a Sum per
 * parameter (150 calls for a 4-layer BERT student).
 */
export function globalNorm(grads: Map<string, tf.Tensor>): number {
  if (!grads.size) return 0;
  const list = [...grads.values()];
  if (list.every((g) => g.dtype === 'float32') && tf.getKernel(DistillerySumSquares, tf.getBackend())) {
    return Math.sqrt(tf.tidy(() => runFusedKernel(DistillerySumSquares, list)[0].dataSync()[0]!));
  }
  return tf.tidy(() => tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
}

/** Names of the tensors holding NaN/Inf (read back: only on the failure path or where data is read anyway). */
export function nonFiniteTensors(tensors: Iterable<[string, tf.Tensor]>): string[] {
  const bad: string[] = [];
  for (const [name, t] of tensors) {
    const ok = tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0]);
    if (!ok) bad.push(name);
  }
  return bad;
}

/** `name (NaN at flat index i)` for the first non-finite value of `data` (a chunk starting at flat `offset`), or undefined when all are finite. */
export function nonFiniteAt(name: string, data: ArrayLike<number>, offset = 0): string | undefined {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0)
      return `${name} (${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'} at flat index ${offset + i})`;
  }
  return undefined;
}

/** The `NON_FINITE_WEIGHTS` error for the problems {@link nonFiniteAt} found, or undefined when there are none. */
export function nonFiniteError(bad: readonly string[], what: string, hint: string): DistilleryError | undefined {
  if (!bad.length) return undefined;
  return new DistilleryError(
    'NON_FINITE_WEIGHTS',
    `${what}: ${bad.length} tensor(s) hold NaN/Inf: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}`,
    { hint },
  );
}

/** Throw `NON_FINITE_WEIGHTS` naming the first tensors whose values are NaN/Inf. `what`: e.g. "checkpoint". */
export function assertFiniteArrays(entries: Iterable<[string, ArrayLike<number>]>, what: string, hint: string): void {
  const bad: string[] = [];
  for (const [name, data] of entries) {
    const b = nonFiniteAt(name, data);
    if (b) bad.push(b);
  }
  const err = nonFiniteError(bad, what, hint);
  if (err) throw err;
}

/** The divergence guard of one training run. */
export class DivergenceGuard {
  private consecutiveSkips = 0;
  /** Steps skipped so far (with `onNonFinite: "skip"`). */
  skipped = 0;

  constructor(
    private readonly cfg: GuardConfig,
    private readonly logger?: Pick<Logger, 'warn'>,
  ) {}

  /** Check a step before the optimizer applies it; clips the gradients when configured. */
  beforeStep(s: StepCheckInput): StepVerdict {
    const norm = globalNorm(s.accum);
    const terms = Object.entries(s.sums).filter(([k]) => k !== '__total');
    const badTerms = terms.filter(([, v]) => !Number.isFinite(v)).map(([k]) => k);
    const lossOk = Number.isFinite(s.sums.__total ?? 0) && badTerms.length === 0;
    const normOk = Number.isFinite(norm);
    const ceiling = this.cfg.gradNormCeiling;
    const tooLarge = normOk && ceiling !== null && ceiling > 0 && norm > ceiling;
    if (lossOk && normOk && !tooLarge) {
      this.consecutiveSkips = 0;
      if (this.cfg.maxGradNorm > 0) clipWithNorm(s.accum, norm, this.cfg.maxGradNorm);
      return { skip: false, gradNorm: norm };
    }
    const err = this.diagnose(s, norm, badTerms, terms, lossOk, tooLarge);
    if (this.cfg.onNonFinite === 'skip' && this.consecutiveSkips + 1 < MAX_CONSECUTIVE_SKIPS) {
      this.consecutiveSkips++;
      this.skipped++;
      this.logger?.warn(
        `${err.message.split('\n')[0]} — batch skipped (onNonFinite: "skip"; ${this.skipped} step(s) skipped so far)`,
      );
      return { skip: true };
    }
    if (this.cfg.onNonFinite === 'skip') {
      throw new DistilleryError(
        err.code,
        `${MAX_CONSECUTIVE_SKIPS} steps in a row were skipped; the last: ${err.message}`,
        { hint: err.hint },
      );
    }
    throw err;
  }

  /** The error for a bad step: what is non-finite, where, and advice that fits the cause. */
  private diagnose(
    s: StepCheckInput,
    norm: number,
    badTerms: string[],
    terms: [string, number][],
    lossOk: boolean,
    tooLarge: boolean,
  ): DistilleryError {
    const first = s.afterCounter - s.nInGroup + 1;
    const at = `at step ${s.globalStep} (epoch ${s.epoch}, ${s.nInGroup === 1 ? `batch ${s.afterCounter}` : `batches ${first}–${s.afterCounter}`} of this run)`;
    const values = terms.map(([k, v]) => `${k}=${v / s.nInGroup}`).join(', ');
    if (!lossOk) {
      const teacherSide = badTerms.filter((t) => !studentOnly(t));
      const studentTerms = terms.filter(([k]) => studentOnly(k));
      // The student-only terms are fine, the teacher-reading ones are not: the teacher's outputs are bad.
      const teacherCause =
        teacherSide.length === badTerms.length &&
        badTerms.length > 0 &&
        studentTerms.length > 0 &&
        studentTerms.every(([, v]) => Number.isFinite(v));
      const named = badTerms.length ? badTerms.join(', ') : 'the total';
      return new DistilleryError(
        'NON_FINITE_LOSS',
        `non-finite loss term(s) ${named} ${at}; the step was not applied`,
        {
          hint: teacherCause
            ? `the teacher produced NaN/Inf (the student-only terms are finite: ${values}): check the teacher's weights and the inputs`
            : s.globalStep <= 1
              ? `terms: ${values}; at the first step no update has been made yet: check the inputs, the labels and the loss settings (e.g. temperature)`
              : `terms: ${values}; the student diverged: lower training.optimizer.lr, set training.maxGradNorm (e.g. 1), or check the inputs`,
        },
      );
    }
    if (!Number.isFinite(norm)) {
      const bad = nonFiniteTensors(s.accum);
      return new DistilleryError(
        'NON_FINITE_GRADIENT',
        `the gradient norm is ${norm} ${at} (non-finite gradients of ${bad.slice(0, 5).join(', ') || 'some parameters'}${bad.length > 5 ? ', …' : ''}); the step was not applied`,
        {
          hint: `the loss was finite (${values}): lower training.optimizer.lr or set training.maxGradNorm (e.g. 1); a custom loss may have a non-finite gradient`,
        },
      );
    }
    return new DistilleryError(
      'GRAD_NORM_CEILING',
      `the gradient norm ${norm.toPrecision(4)} exceeds training.gradNormCeiling ${this.cfg.gradNormCeiling} ${at}; the step was not applied`,
      {
        hint: tooLarge
          ? 'the run is diverging: lower training.optimizer.lr or set training.maxGradNorm to clip; raise gradNormCeiling if such norms are expected'
          : undefined,
      },
    );
  }
}

const guards = new WeakMap<object, DivergenceGuard>();

/** The guard of one training run, keyed by an object that lives exactly as long as the run (its optimizer). */
export function guardOf(run: object, cfg: GuardConfig, logger?: Pick<Logger, 'warn'>): DivergenceGuard {
  let g = guards.get(run);
  if (!g) guards.set(run, (g = new DivergenceGuard(cfg, logger)));
  return g;
}

/** Scale gradients to `maxNorm` given their norm (PyTorch `clip_grad_norm_`). */
function clipWithNorm(grads: Map<string, tf.Tensor>, norm: number, maxNorm: number): void {
  const coef = maxNorm / (norm + 1e-6);
  if (coef >= 1) return;
  for (const [k, g] of grads) {
    grads.set(k, tf.mul(g, coef));
    g.dispose();
  }
}
