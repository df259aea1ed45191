/**
 * Teacher sides: what the loop asks of "the teacher", whatever it is. The strategies compose one
 * instead of overriding the loop: BasicDistiller/GeneralDistiller use a {@link LiveTeacher}
 * (wrapped in a {@link CachingTeacher} with `isCachingLogits`), MultiTeacherDistiller a
 * {@link MultiTeacher}, MultiTaskDistiller a live teacher that dispatches on the batch's task.
 *
 * Two phases per batch, so the numbers match TextBrewer's no_grad teacher exactly: `prepare` runs
 * the teacher forward outside the gradient tape (it may be async, e.g. onnxruntime; the caller
 * disposes what it returns), `results` maps the prepared outputs to an {@link AdaptorOutput} inside
 * the step's tidy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Adaptor, AdaptorOutput } from '../model/types.js';
import { asList } from '../distillers/compute-loss.js';
import type { CacheFields } from './cached-teacher.js';

/** A teacher: any model with a forward pass; it may be async (e.g. onnxruntime). */
export interface TeacherModel<B, O = unknown> {
  forward(batch: B, opts: { training: false }): O | Promise<O>;
}

/** Where a batch sits in the run (for caches keyed by position). */
export interface TeacherBatchContext {
  readonly epoch: number;
  readonly dataIndex: number;
}

/** The teacher as the loop sees it. */
export interface TeacherSide<B> {
  readonly name: string;
  /** Teacher forward outside the tape; the loop disposes the returned tensors after the batch. */
  prepare(batch: B, ctx: TeacherBatchContext): Promise<unknown>;
  /** Adaptor output of the prepared forward; runs inside the step's tidy. */
  results(batch: B, prepared: unknown): AdaptorOutput;
  /** Replace an epoch's batches (a logits cache replays epoch 0's order); undefined: the source's. */
  batches?(epoch: number, nBatches: number): Iterable<B> | undefined;
  /** A batch skipped while fast-forwarding to a resumed position (a cache refills itself). */
  skipped?(batch: B, ctx: TeacherBatchContext): Promise<void>;
  /** Start of a run: drop per-run state. */
  reset?(): void;
  /** End of a run: persist what must outlive it (a teacher-output cache's manifest). */
  flush?(): Promise<void>;
}

/**
 * A teacher forward outside the gradient tape (TextBrewer's no_grad). Sync teachers run in a tidy
 * (intermediates freed, outputs kept); async ones (e.g. onnxruntime) return tensors the caller owns.
 */
export async function runTeacher<B, O>(teacher: TeacherModel<B, O>, batch: B): Promise<O> {
  let pending: Promise<O> | undefined;
  const sync = tf.tidy(() => {
    const r = teacher.forward(batch, { training: false });
    if (r instanceof Promise) {
      pending = r;
      return [];
    }
    return r as tf.TensorContainer;
  });
  return pending ? await pending : (sync as O);
}

/** Options of {@link LiveTeacher}. */
export interface LiveTeacherOptions {
  /**
   * Keep only what the loss reads — logits, logitsMask, inputsMask and the listed feature layers (the same
   * fields a teacher cache stores) — and free the rest of the teacher's outputs before the student's forward
   * pass. A BERT-base teacher returns 13 hidden states and 12 attention maps (157 MB at batch 32 × 64) of which
   * a config typically matches one or two. Lists keep their indices and length (the other layers are holes).
   * Undefined: the adaptor output as it is.
   */
  keep?: CacheFields;
}

/** The adaptor-output fields the loss pipeline reads from the teacher besides the matched features. */
export const TEACHER_FIELDS = ['logits', 'logitsMask', 'inputsMask'] as const;

/** The fields of a teacher adaptor output the loss reads (see {@link LiveTeacherOptions.keep}). */
export function keepTeacherFields(out: AdaptorOutput, keep: CacheFields): AdaptorOutput {
  const o = out as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const f of TEACHER_FIELDS) if (o[f] !== undefined) kept[f] = o[f];
  for (const [f, layers] of Object.entries(keep.features ?? {})) {
    const v = o[f];
    if (!Array.isArray(v)) {
      if (v !== undefined) kept[f] = v; // not a list: the first-step validation names the problem
      continue;
    }
    const list = new Array<unknown>(v.length);
    for (const l of layers) if (l < v.length) list[l] = v[l];
    kept[f] = list;
  }
  return kept as AdaptorOutput;
}

/** The same fields with every tensor (also inside lists, holes kept) replaced by a clone. */
function cloneTensors(out: AdaptorOutput): AdaptorOutput {
  const one = (v: unknown): unknown => (v instanceof tf.Tensor ? tf.clone(v) : v);
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(out as Record<string, unknown>)) {
    if (!Array.isArray(v)) copy[k] = one(v);
    else {
      const list = new Array<unknown>(v.length);
      v.forEach((t, i) => (list[i] = one(t))); // forEach skips holes, so they stay holes
      copy[k] = list;
    }
  }
  return copy as AdaptorOutput;
}

/** One model and its adaptor. */
export class LiveTeacher<B, O = unknown> implements TeacherSide<B> {
  readonly name = 'live';
  constructor(
    readonly model: TeacherModel<B, O>,
    readonly adaptor: Adaptor<B, O>,
    private readonly opts: LiveTeacherOptions = {},
  ) {}
  async prepare(batch: B): Promise<unknown> {
    const out = await runTeacher(this.model, batch);
    const keep = this.opts.keep;
    if (!keep) return out;
    // The adaptor runs here instead of in the step, so the unread outputs are gone before the student's tape.
    // Kept tensors are clones (zero-copy: they share the data) because the forward's outputs are all disposed.
    const trimmed = tf.tidy(
      () => cloneTensors(keepTeacherFields(this.adaptor(batch, out), keep)) as tf.TensorContainer,
    );
    tf.dispose(out as tf.TensorContainer);
    return { trimmed };
  }
  results(batch: B, prepared: unknown): AdaptorOutput {
    if (this.opts.keep) return (prepared as { trimmed: AdaptorOutput }).trimmed;
    return this.adaptor(batch, prepared as O);
  }
}

/** Several teachers: each adaptor's output, combined by `combine` (the mean of masked logits). */
export class MultiTeacher<B, O = unknown> implements TeacherSide<B> {
  readonly name = 'multi';
  constructor(
    readonly sides: readonly { model: TeacherModel<B, O>; adaptor: Adaptor<B, O> }[],
    private readonly combine: (results: AdaptorOutput[]) => AdaptorOutput,
  ) {}
  async prepare(batch: B): Promise<unknown> {
    const outs: unknown[] = [];
    for (const s of this.sides) outs.push(await runTeacher(s.model, batch));
    return outs;
  }
  results(batch: B, prepared: unknown): AdaptorOutput {
    return this.combine((prepared as O[]).map((o, i) => this.sides[i]!.adaptor(batch, o)));
  }
}

/** Per-task teachers (MultiTaskDistiller): each batch is `{ task, batch }` and goes to its task's side. */
export class PerTaskTeacher<B> implements TeacherSide<{ readonly task: string; readonly batch: B }> {
  readonly name = 'per-task';
  constructor(readonly sides: Readonly<Record<string, TeacherSide<B>>>) {}
  prepare(tb: { task: string; batch: B }, ctx: TeacherBatchContext): Promise<unknown> {
    return this.sides[tb.task]!.prepare(tb.batch, ctx);
  }
  results(tb: { task: string; batch: B }, prepared: unknown): AdaptorOutput {
    return this.sides[tb.task]!.results(tb.batch, prepared);
  }
}

type Cached<B> = {
  batch: B;
  logits: { data: Float32Array; shape: number[] }[];
  logitsMask: { data: Int32Array | Float32Array; shape: number[] }[];
};

/**
 * TextBrewer's `is_caching_logits`: in epoch 0 the inner side runs and (batch, logits) are stored
 * by batch index; later epochs replay the cache in epoch 0's order without the teacher. On a
 * resumed run the skipped epoch-0 batches refill the cache, so the replay is the same.
 */
export class CachingTeacher<B> implements TeacherSide<B> {
  readonly name = 'cached';
  private cache: Cached<B>[] = [];
  constructor(private readonly inner: TeacherSide<B>) {}

  reset(): void {
    this.cache = [];
  }
  batches(epoch: number, nBatches: number): Iterable<B> | undefined {
    return epoch > 0 && this.cache.length === nBatches ? this.cache.map((c) => c.batch) : undefined;
  }
  async prepare(batch: B, ctx: TeacherBatchContext): Promise<unknown> {
    const c = ctx.epoch > 0 ? this.cache[ctx.dataIndex] : undefined;
    if (c)
      return {
        cached: {
          logits: c.logits.map((l) => tf.tensor(l.data, l.shape)),
          logitsMask: c.logitsMask.map((l) => tf.tensor(l.data, l.shape)),
        },
      };
    const inner = await this.inner.prepare(batch, ctx);
    if (ctx.epoch === 0) this.store(batch, ctx.dataIndex, inner);
    return { inner };
  }
  results(batch: B, prepared: unknown): AdaptorOutput {
    const p = prepared as { cached?: { logits: tf.Tensor[]; logitsMask: tf.Tensor[] }; inner?: unknown };
    if (p.cached)
      return { logits: p.cached.logits, ...(p.cached.logitsMask.length ? { logitsMask: p.cached.logitsMask } : {}) };
    return this.inner.results(batch, p.inner);
  }
  async skipped(batch: B, ctx: TeacherBatchContext): Promise<void> {
    if (ctx.epoch !== 0) return;
    const inner = await this.inner.prepare(batch, ctx);
    this.store(batch, ctx.dataIndex, inner);
    tf.dispose(inner as tf.TensorContainer);
  }
  private store(batch: B, index: number, inner: unknown): void {
    tf.tidy(() => {
      const resT = this.inner.results(batch, inner);
      this.cache[index] = {
        batch,
        logits: asList(resT.logits).map((t) => ({ data: t.dataSync() as Float32Array, shape: t.shape })),
        logitsMask: asList(resT.logitsMask).map((t) => ({ data: t.dataSync() as Int32Array, shape: t.shape })),
      };
    });
  }
}
