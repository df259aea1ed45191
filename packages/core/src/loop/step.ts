/**
 * The two halves of an optimizer step, as plain functions: a forward/backward pass that adds a
 * batch's gradients to an accumulator, and the update (clip, LR schedule, optimizer).
 */
import * as tf from '@tensorflow/tfjs-core';
import { variableGradsFreeing } from '../tensor/variable-grads.js';
import { mulberry32 } from '../util/rng.js';
import type { LossResult } from '../distillers/compute-loss.js';

/** Gradients and loss values summed over the batches of one accumulation group. */
export class GradientAccumulator {
  grads = new Map<string, tf.Tensor>();
  sums: Record<string, number> = {};
  total = 0;
  batches = 0;

  add(
    grads: Record<string, tf.Tensor>,
    engineToKey: ReadonlyMap<string, string>,
    total: number,
    losses: Record<string, number>,
  ): void {
    for (const [engineName, g] of Object.entries(grads)) {
      const key = engineToKey.get(engineName)!;
      const prev = this.grads.get(key);
      if (prev) {
        this.grads.set(key, tf.add(prev, g));
        prev.dispose();
        g.dispose();
      } else this.grads.set(key, g);
    }
    for (const [k, v] of Object.entries(losses)) this.sums[k] = (this.sums[k] ?? 0) + v;
    this.total += total;
    this.batches++;
  }

  /** Mean loss and terms over the group. */
  means(): { loss: number; losses: Record<string, number> } {
    const n = this.batches;
    return { loss: this.total / n, losses: Object.fromEntries(Object.entries(this.sums).map(([k, v]) => [k, v / n])) };
  }

  reset(): void {
    for (const t of this.grads.values()) t.dispose();
    this.grads = new Map();
    this.sums = {};
    this.total = 0;
    this.batches = 0;
  }
}

/**
 * Run `fn` with `Math.random` drawn from a generator seeded by (seed, batch counter). Unseeded
 * tfjs random ops (dropout) draw their seed from `Math.random`, so every batch gets its own
 * reproducible masks, whatever happened before: a resumed run draws exactly the same ones.
 */
export function withBatchRandom<T>(seed: number, counter: number, fn: () => T): T {
  const saved = Math.random;
  Math.random = mulberry32((Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(counter + 1, 0x9e3779b1)) >>> 0);
  try {
    return fn();
  } finally {
    Math.random = saved;
  }
}

/** Inputs of {@link forwardBackward}. */
export interface ForwardBackward {
  /** The strategy's loss of the batch (inside the tape and a tidy). */
  loss: () => LossResult;
  groupSize: number;
  varList: tf.Variable[];
  engineToKey: ReadonlyMap<string, string>;
  seed: number;
  counter: number;
}

/** One batch: loss inside a tape, gradients added to `acc`. Returns the batch's loss values. */
export async function forwardBackward(
  f: ForwardBackward,
  acc: GradientAccumulator,
): Promise<{ total: number; losses: Record<string, number> }> {
  let kept: Record<string, tf.Scalar> = {};
  const { value, grads } = withBatchRandom(f.seed, f.counter, () =>
    tf.tidy(() =>
      variableGradsFreeing(() => {
        const r = f.loss();
        // Keep the unweighted terms past the tape's tidy, to report them.
        kept = Object.fromEntries(Object.entries(r.losses).map(([k, t]) => [k, tf.keep(t)]));
        return tf.div<tf.Scalar>(r.total, f.groupSize);
      }, f.varList),
    ),
  );
  const names = Object.keys(kept);
  const nums = names.length ? tf.tidy(() => tf.stack(names.map((k) => kept[k]!)).dataSync()) : new Float32Array();
  tf.dispose(Object.values(kept));
  const total = (await value.data())[0]! * f.groupSize;
  value.dispose();
  const losses = Object.fromEntries(names.map((k, i) => [k, nums[i]!]));
  acc.add(grads, f.engineToKey, total, losses);
  // A non-finite loss is diagnosed by the divergence guard before the optimizer step (loop/guard.ts).
  return { total, losses };
}
