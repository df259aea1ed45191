/**
 * Optimizers with PyTorch semantics (so numbers match the Python originals):
 * - `adamw`: decoupled weight decay `p ← p·(1 − lr·wd)`, then the bias-corrected Adam update;
 * - `adam`: L2 penalty added to the gradient (`torch.optim.Adam(weight_decay=…)`);
 * - `sgd`: `p ← p − lr·(g + wd·p)`.
 * State (moments, step count) lives in non-trainable variables.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '../config/schema.js';
import { DistilleryAdamW, DistilleryAdamWInPlace, runFusedKernel, type AdamWInPlaceAttrs } from '../kernels/names.js';

/**
 * Fused Adam/AdamW update kernel registered by `@distillery/backend-native` on its 'native' backend (its
 * contract is in `kernels/names.ts`). Inputs `{p, g, m, v}`, outputs new `[p', m', v']`. Where the backend also
 * has `DistilleryAdamWInPlace`, every parameter whose p, m and v no other tensor shares is updated by that one
 * in-place call instead (same bits).
 */
export const FUSED_ADAM_KERNEL = DistilleryAdamW;

/** One optimizer for a set of named parameters. */
export class Optimizer {
  readonly cfg: OptimizerConfig;
  private t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly applied = new Map<string, number>();

  constructor(cfg: OptimizerConfig) {
    this.cfg = cfg;
  }

  /** Optimizer steps taken. */
  get steps(): number {
    return this.t;
  }

  /**
   * The learning rate each parameter was updated with in the last {@link step} (the value the update used,
   * not a recomputation of the schedule): what the loop reports as the step's `lr`.
   */
  get appliedLr(): ReadonlyMap<string, number> {
    return this.applied;
  }

  /**
   * Apply one update. `lrFor(name)` gives each parameter's learning rate (projections may have
   * their own). Gradients are not disposed.
   */
  step(
    params: ReadonlyMap<string, tf.Variable>,
    grads: ReadonlyMap<string, tf.Tensor>,
    lrFor: (name: string) => number,
  ): void {
    this.t++;
    const { betas, eps, weightDecay: wd0, type, noDecay } = this.cfg;
    const [b1, b2] = betas;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    const backendName = tf.getBackend();
    const fused = type !== 'sgd' && tf.getKernel(FUSED_ADAM_KERNEL, backendName) !== undefined;
    const inPlace = fused && tf.getKernel(DistilleryAdamWInPlace, backendName) !== undefined;
    // The in-place kernel may only rewrite buffers no other tensor shares (tfjs tensors are immutable), and a
    // variable listed under two names (tied weights) is updated once per name, by the per-parameter kernel.
    const listed = new Map<tf.Tensor, number>();
    for (const p of params.values()) listed.set(p, (listed.get(p) ?? 0) + 1);
    const owned = (t: tf.Tensor) => tf.engine().backend.refCount(t.dataId) === 1 && (listed.get(t) ?? 0) <= 1;
    const batch: tf.Tensor[] = [];
    const batchAttrs: AdamWInPlaceAttrs = {
      beta1: b1,
      beta2: b2,
      eps,
      sqrtBc2: Math.sqrt(bc2),
      l2: [],
      decay: [],
      stepSize: [],
    };
    this.applied.clear();
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      const lr = lrFor(name);
      this.applied.set(name, lr);
      const wd = noDecay.some((s) => name.includes(s)) ? 0 : wd0;
      tf.tidy(() => {
        if (type === 'sgd') {
          p.assign(tf.sub(p, tf.mul(wd ? tf.add(g, tf.mul(p, wd)) : g, lr)));
          return;
        }
        const m = this.slot(this.m, name, p);
        const v = this.slot(this.v, name, p);
        const attrs = {
          beta1: b1,
          beta2: b2,
          eps,
          l2: type === 'adam' ? wd : 0,
          decay: type === 'adamw' ? 1 - lr * wd : 1,
          stepSize: lr / bc1,
          sqrtBc2: Math.sqrt(bc2),
        };
        const f32 = p.dtype === 'float32' && g.dtype === 'float32';
        if (inPlace && f32 && owned(p) && owned(m) && owned(v)) {
          // Updated below with all the others in one call: no new buffers, no per-parameter kernel call.
          batch.push(p, g, m, v);
          batchAttrs.l2.push(attrs.l2);
          batchAttrs.decay.push(attrs.decay);
          batchAttrs.stepSize.push(attrs.stepSize);
          return;
        }
        if (fused && f32) {
          // One kernel instead of ~12 ops. It returns *new* tensors that we assign (the variables then point at
          // the new buffers and the old ones are released), rather than writing into p/m/v's buffers: this one's
          // buffer is shared with another tensor (zero-copy clone/identity, a checkpoint's tensors), which
          // tfjs assumes immutable.
          const [np, nm, nv] = runFusedKernel(DistilleryAdamW, { p, g, m, v }, attrs);
          m.assign(nm);
          v.assign(nv);
          p.assign(np);
          return;
        }
        const grad = type === 'adam' && wd ? tf.add(g, tf.mul(p, wd)) : g;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(grad, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(grad), 1 - b2)));
        const base = type === 'adamw' && wd ? tf.mul(p, 1 - lr * wd) : p;
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), eps);
        p.assign(tf.sub(base, tf.mul(tf.div(m, denom), lr / bc1)));
      });
    }
    if (batch.length > 0) tf.tidy(() => void runFusedKernel(DistilleryAdamWInPlace, batch, batchAttrs));
  }

  /** Moments and step count, by parameter name (read-only views of the optimizer's state). */
  state(): { step: number; tensors: Record<string, tf.Tensor> } {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, t] of this.m) tensors[`m.${k}`] = t;
    for (const [k, t] of this.v) tensors[`v.${k}`] = t;
    return { step: this.t, tensors };
  }

  /**
   * Restore moments and step count saved by {@link state} (a checkpoint's optimizer.safetensors):
   * `m.<param>` / `v.<param>` arrays. Every present moment must match its parameter's shape.
   */
  loadState(
    step: number,
    tensors: ReadonlyMap<string, { data: Float32Array; shape: readonly number[] }>,
    params: ReadonlyMap<string, tf.Variable>,
  ): void {
    this.dispose();
    for (const [key, t] of tensors) {
      const [kind, ...rest] = key.split('.');
      const name = rest.join('.');
      const p = params.get(name);
      const table = kind === 'm' ? this.m : kind === 'v' ? this.v : undefined;
      if (!table || !p) throw new Error(`optimizer state "${key}" matches no parameter`);
      if (!tf.util.arraysEqual([...t.shape], p.shape))
        throw new Error(
          `optimizer state "${key}" has shape [${t.shape.join(',')}], the parameter [${p.shape.join(',')}]`,
        );
      table.set(name, tf.keep(tf.variable(tf.tensor(t.data, [...t.shape], 'float32'), false)));
    }
    this.t = step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }

  private slot(table: Map<string, tf.Variable>, name: string, like: tf.Variable): tf.Variable {
    let s = table.get(name);
    if (!s) {
      // The zeros are disposed at once, so the moment owns its buffer (the in-place update needs that).
      const zeros = tf.zerosLike(like);
      s = tf.keep(tf.variable(zeros, false));
      zeros.dispose();
      table.set(name, s);
    }
    return s;
  }
}

/** Global L2 norm of the gradients; scales them in place (new tensors) when above `maxNorm` (PyTorch `clip_grad_norm_`). */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  const norm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
  if (maxNorm > 0) {
    const coef = maxNorm / (norm + 1e-6);
    if (coef < 1) {
      for (const [k, g] of grads) {
        grads.set(k, tf.mul(g, coef));
        g.dispose();
      }
    }
  }
  return norm;
}
