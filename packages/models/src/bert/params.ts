/**
 * Parameter storage keyed by Hugging Face names, as `tf.Variable`s (trainable) or plain kept tensors
 * (frozen teachers: no variables, so no gradients and no optimizer state).
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';

let instanceCounter = 0;

/** Weights of one model by HF name (`bert.encoder.layer.0.attention.self.query.weight`, …). */
export class ParamStore {
  /** Per-instance prefix: tfjs variable names are global, HF names are not. */
  readonly prefix: string;
  private readonly tensors = new Map<string, tf.Tensor>();
  /** Frozen stores cache `[in, out]` copies of linear weights (see {@link transposed}). */
  private readonly transposedCache = new Map<string, tf.Tensor>();
  /** Frozen stores cache stacked weights (see {@link stacked}), keyed by the names joined with `|`. */
  private readonly stackedCache = new Map<string, { names: readonly string[]; t: tf.Tensor }>();

  constructor(readonly trainable: boolean) {
    this.prefix = `distillery_m${++instanceCounter}`;
  }

  /**
   * Store a weight (takes ownership of `value`). Shapes are PyTorch layout: linear weights `[out, in]`.
   * Replacing an existing weight requires the same shape.
   */
  set(name: string, value: tf.Tensor): void {
    this.transposedCache.get(name)?.dispose();
    this.transposedCache.delete(name);
    for (const [key, e] of this.stackedCache) {
      if (!e.names.includes(name)) continue;
      e.t.dispose();
      this.stackedCache.delete(key);
    }
    const old = this.tensors.get(name);
    if (old) {
      if (!tf.util.arraysEqual(old.shape, value.shape)) {
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `weight "${name}" has shape [${old.shape.join(',')}], got [${value.shape.join(',')}]`,
          { where: name },
        );
      }
      if (old instanceof tf.Variable) {
        old.assign(value);
        value.dispose();
        return;
      }
      old.dispose();
    }
    const t = this.trainable ? tf.variable(value, true, `${this.prefix}/${name}`) : tf.keep(value);
    if (this.trainable) value.dispose();
    this.tensors.set(name, t);
  }

  /** The weight `name`; a missing one is a programming error reported with the nearest names. */
  get(name: string): tf.Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new DistilleryError('MISSING_WEIGHT', `no weight named "${name}"`, { where: name });
    return t;
  }

  /**
   * The 2-D weight `name` transposed to `[in, out]`. Why: `matMul(x, W, false, true)` is ~10× slower than
   * `matMul(x, Wᵀ)` on the wasm backend, so frozen models keep a transposed copy; trainable ones
   * transpose per call (cheap next to the product, and differentiable).
   */
  transposed(name: string): tf.Tensor2D {
    if (this.trainable) return tf.transpose(this.get(name) as tf.Tensor2D);
    let t = this.transposedCache.get(name);
    if (!t) {
      const w = this.get(name) as tf.Tensor2D;
      t = tf.keep(tf.tidy(() => tf.transpose(w)));
      this.transposedCache.set(name, t);
    }
    return t as tf.Tensor2D;
  }

  /**
   * The weights `names` stacked along their first axis (`[Σ rows, …]`): the query, key and value weights (and
   * biases) of an attention layer as one linear layer, so that one product computes all three projections.
   * Frozen stores keep the stacked copy; trainable ones stack per call, with a gradient that hands each weight
   * its own rows.
   */
  stacked(names: readonly string[]): tf.Tensor {
    const parts = names.map((n) => this.get(n));
    if (this.trainable) return stackRows(parts);
    const key = names.join('|');
    let e = this.stackedCache.get(key);
    if (!e) {
      e = { names: [...names], t: tf.keep(tf.tidy(() => tf.concat(parts, 0))) };
      this.stackedCache.set(key, e);
    }
    return e.t;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  /** All weights (variables or tensors) by HF name. */
  all(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.tensors);
  }

  /** Trainable variables by HF name; empty for a frozen store. */
  variables(): Record<string, tf.Variable> {
    if (!this.trainable) return {};
    return Object.fromEntries(this.tensors) as Record<string, tf.Variable>;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    for (const t of this.transposedCache.values()) t.dispose();
    for (const e of this.stackedCache.values()) e.t.dispose();
    this.tensors.clear();
    this.transposedCache.clear();
    this.stackedCache.clear();
  }
}

/**
 * `concat(parts, 0)` whose gradient slices each part's rows out of `dy` (contiguous copies). tfjs's own concat
 * gradient goes through `SplitV`, whose wasm kernel slices through the stock `Slice` (the whole input read back
 * into JavaScript for each part).
 */
function stackRows(parts: tf.Tensor[]): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args.slice(0, parts.length) as tf.Tensor[];
    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      let row = 0;
      return xs.map((x) => {
        const begin = dy.shape.map((_, i) => (i === 0 ? row : 0));
        row += x.shape[0];
        return tf.slice(dy, begin, x.shape);
      });
    };
    return { value: tf.concat(xs, 0), gradFunc };
  });
  return f(...parts);
}
