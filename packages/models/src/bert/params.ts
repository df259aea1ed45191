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

  constructor(readonly trainable: boolean) {
    this.prefix = `distillery_m${++instanceCounter}`;
  }

  /**
   * Store a weight (takes ownership of `value`). Shapes are PyTorch layout: linear weights `[out, in]`.
   * Replacing an existing weight requires the same shape.
   */
  set(name: string, value: tf.Tensor): void {
    const old = this.tensors.get(name);
    if (old) {
      if (!tf.util.arraysEqual(old.shape, value.shape)) {
        throw new DistilleryError('SHAPE_MISMATCH', `weight "${name}" has shape [${old.shape}], got [${value.shape}]`, { where: name });
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
    this.tensors.clear();
  }
}
