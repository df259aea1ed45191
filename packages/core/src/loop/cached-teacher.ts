/**
 * A teacher-output cache as a {@link TeacherSide}: per-example entries (not per batch), so it works
 * with shuffling, length bucketing (rows are stored unpadded and re-padded to each batch's length),
 * GeneralDistiller's features, MultiTeacher's combined logits and MultiTask's per-task teachers.
 * A batch whose examples are all cached is served without calling the teacher; otherwise the
 * fallback side runs and the batch's rows are stored.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import type { AdaptorOutput } from '../model/types.js';
import type { IntermediateMatch } from '../config/schema.js';
import { TEACHER_FIELDS, type TeacherBatchContext, type TeacherSide } from './teacher-side.js';
import type { CachedRow, TeacherCacheEntry, TeacherCacheStore } from './teacher-cache-store.js';

/** Per-example identity of a batch's rows: what a cache key is made of. */
export interface CacheRows {
  /** One string per example identifying its input (text and token ids); hashed with the namespace. */
  readonly keys: readonly string[];
  /** Real (unpadded) length of each example. */
  readonly lengths: readonly number[];
  /** The batch's padded length. */
  readonly seqLen: number;
}

/** Which adaptor outputs to keep: logits (+ masks) always, features by layer. */
export interface CacheFields {
  /** Feature name → layer indices the matches read (e.g. `{ hidden: [4, 8] }`). @default {} */
  readonly features?: Readonly<Record<string, readonly number[]>>;
}

/** Options of {@link CachedTeacher}. */
export interface CachedTeacherOptions<B> {
  store: TeacherCacheStore;
  /**
   * Fingerprint of everything besides the example that shapes the outputs: teacher weights, adaptor
   * and the cached fields. Entries of another namespace are never read.
   */
  namespace: string;
  /** The batch's per-example keys, or undefined for a batch that cannot be cached (served live). */
  rowsOf(batch: B): CacheRows | undefined;
  fields?: CacheFields;
}

/** Counters of a cached teacher (reset by `reset()`). */
export interface CacheStats {
  hits: number;
  misses: number;
  /** Batches served without the teacher. */
  cachedBatches: number;
  /** Batches that ran the teacher. */
  liveBatches: number;
}

/** The features a config's intermediate matches read from the teacher, by layer. */
export function teacherCacheFields(matches: readonly IntermediateMatch[]): CacheFields {
  const features: Record<string, number[]> = {};
  for (const m of matches) {
    const layers = Array.isArray(m.layerT) ? (m.layerT as number[]) : [m.layerT];
    const list = (features[m.feature] ??= []);
    for (const l of layers) if (!list.includes(l)) list.push(l);
  }
  return { features };
}

/** sha256 of the parts, hex. */
export function contentHash(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(p);
    h.update('\0');
  }
  return h.digest('hex');
}

/** Fingerprint of a model's weights (name, shape, dtype, bytes of every tensor, in name order). */
export function weightsFingerprint(weights: Readonly<Record<string, tf.Tensor>>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(weights).sort()) {
    const t = weights[name]!;
    h.update(`${name}:${t.dtype}:${t.shape.join('x')}\0`);
    const d = t.dataSync();
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex');
}

const MASKS = new Set(['logitsMask', 'inputsMask']);

/** Sequence axes of a batch tensor (batch axis included in `shape`), as row axes (batch axis dropped). */
function seqAxesOf(field: string, shape: readonly number[], seqLen: number): number[] {
  const r = shape.length;
  if (r === 2) return MASKS.has(field) && shape[1] === seqLen ? [0] : [];
  if (r === 3) return shape[1] === seqLen ? [0] : []; // (B, L, D) hidden states, token logits
  if (r === 4) return shape[2] === seqLen && shape[3] === seqLen ? [1, 2] : []; // (B, H, L, L) attention
  return [];
}

/** Row `b` of a (B, ...) array, every seq axis cut to `len`. */
function cutRow(
  data: Float32Array,
  shape: readonly number[],
  b: number,
  axes: readonly number[],
  len: number,
): { shape: number[]; data: Float32Array } {
  const rowShape = shape.slice(1);
  const outShape = rowShape.map((d, a) => (axes.includes(a) ? len : d));
  const rowSize = rowShape.reduce((x, y) => x * y, 1);
  const src = data.subarray(b * rowSize, (b + 1) * rowSize);
  if (!axes.length) return { shape: outShape, data: src.slice() };
  return { shape: outShape, data: copyBox(src, rowShape, outShape) };
}

/** Copy the leading box `box` (each dim ≤ the source's) of a row-major array into a new array of shape `to`. */
function copyBox(
  src: Float32Array,
  from: readonly number[],
  to: readonly number[],
  box: readonly number[] = to.map((d, i) => Math.min(d, from[i]!)),
): Float32Array {
  const out = new Float32Array(to.reduce((x, y) => x * y, 1));
  copyBoxInto(src, from, out, 0, to, box);
  return out;
}

/** {@link copyBox} into `out` (shape `to`) from element `at`; the rest of that region is left as it is. */
function copyBoxInto(
  src: Float32Array,
  from: readonly number[],
  out: Float32Array,
  at: number,
  to: readonly number[],
  box: readonly number[] = to.map((d, i) => Math.min(d, from[i]!)),
): void {
  const r = from.length;
  if (box.some((d) => d === 0)) return;
  // Same shape: one contiguous copy (the common case: rows cached at the batch's own length).
  if (from.every((d, a) => d === to[a] && d === box[a])) {
    out.set(
      src.subarray(
        0,
        from.reduce((x, y) => x * y, 1),
      ),
      at,
    );
    return;
  }
  const strideF = new Array<number>(r).fill(1);
  const strideT = new Array<number>(r).fill(1);
  for (let a = r - 2; a >= 0; a--) {
    strideF[a] = strideF[a + 1]! * from[a + 1]!;
    strideT[a] = strideT[a + 1]! * to[a + 1]!;
  }
  const last = box[r - 1] ?? 1;
  const idx = new Array<number>(Math.max(0, r - 1)).fill(0);
  for (;;) {
    let of = 0;
    let ot = at;
    for (let a = 0; a < r - 1; a++) {
      of += idx[a]! * strideF[a]!;
      ot += idx[a]! * strideT[a]!;
    }
    out.set(src.subarray(of, of + last), ot);
    let a = r - 2;
    while (a >= 0 && ++idx[a]! >= box[a]!) idx[a--] = 0;
    if (a < 0) break;
  }
}

// Cached rows sit behind a function: the loop tf.dispose()s what prepare returns, and tfjs would
// walk every element of the rows' typed arrays looking for tensors.
type Prepared = { cached: () => readonly TeacherCacheEntry[]; seqLen: number } | { inner: unknown };

/** Reads the cache; on a miss runs `fallback` and stores the batch's rows. */
export class CachedTeacher<B> implements TeacherSide<B> {
  readonly name = 'teacher-cache';
  readonly stats: CacheStats = { hits: 0, misses: 0, cachedBatches: 0, liveBatches: 0 };
  private readonly features: Readonly<Record<string, readonly number[]>>;

  constructor(
    readonly fallback: TeacherSide<B>,
    private readonly o: CachedTeacherOptions<B>,
  ) {
    this.features = o.fields?.features ?? {};
  }

  /** The store key of one example. */
  keyOf(rowKey: string): string {
    return contentHash(this.o.namespace, rowKey);
  }

  reset(): void {
    Object.assign(this.stats, { hits: 0, misses: 0, cachedBatches: 0, liveBatches: 0 });
    this.fallback.reset?.();
  }

  async prepare(batch: B, ctx: TeacherBatchContext): Promise<unknown> {
    const rows = this.o.rowsOf(batch);
    if (rows) {
      const keys = rows.keys.map((k) => this.keyOf(k));
      // A store may answer synchronously (memory, folder) or asynchronously (a remote store).
      const got = await Promise.all(keys.map((k) => Promise.resolve(this.o.store.get(k))));
      const hit = got.filter((e) => e !== undefined).length;
      this.stats.hits += hit;
      this.stats.misses += keys.length - hit;
      if (hit === keys.length) {
        this.stats.cachedBatches++;
        const entries = got as TeacherCacheEntry[];
        return { cached: () => entries, seqLen: rows.seqLen } satisfies Prepared;
      }
      const inner = await this.fallback.prepare(batch, ctx);
      this.stats.liveBatches++;
      await this.store(batch, inner, rows, keys, got);
      return { inner } satisfies Prepared;
    }
    this.stats.liveBatches++;
    return { inner: await this.fallback.prepare(batch, ctx) } satisfies Prepared;
  }

  /** Compute (when needed) and store a batch's rows without training on it: `distillery cache-teacher`. */
  async fill(batch: B, ctx: TeacherBatchContext = { epoch: 0, dataIndex: 0 }): Promise<{ computed: boolean }> {
    const p = (await this.prepare(batch, ctx)) as Prepared;
    if ('inner' in p) tf.dispose(p.inner as tf.TensorContainer);
    return { computed: 'inner' in p };
  }

  async skipped(batch: B, ctx: TeacherBatchContext): Promise<void> {
    await this.fill(batch, ctx);
  }

  async flush(): Promise<void> {
    await this.o.store.flush?.();
  }

  results(batch: B, prepared: unknown): AdaptorOutput {
    const p = prepared as Prepared;
    if ('inner' in p) return this.fallback.results(batch, p.inner);
    return this.assemble(p.cached(), p.seqLen);
  }

  /** Re-pad the examples' rows to the batch's length and stack them into the adaptor output. */
  private assemble(entries: readonly TeacherCacheEntry[], seqLen: number): AdaptorOutput {
    const out: Record<string, tf.Tensor | tf.Tensor[]> = {};
    const first = entries[0]!;
    first.rows.forEach((r0, ri) => {
      const shape = r0.shape.map((d, a) => (r0.seqAxes.includes(a) ? seqLen : d));
      const size = shape.reduce((x, y) => x * y, 1);
      const data = new Float32Array(size * entries.length);
      entries.forEach((e, b) => {
        const r = e.rows[ri]!;
        // Straight into the batch array (padding stays 0): no per-row copy to allocate and collect.
        if (r.seqAxes.length) copyBoxInto(r.data, r.shape, data, b * size, shape, r.shape);
        else data.set(r.data, b * size);
      });
      const t = tf.tensor(data, [entries.length, ...shape]);
      if (r0.index === undefined) out[r0.field] = t;
      else {
        // Lists keep their indices (a feature list holds only the layers the matches read).
        const list = (out[r0.field] ??= []) as tf.Tensor[];
        list[r0.index] = t;
      }
    });
    return out;
  }

  /** Split the fallback's adaptor output into per-example rows and put the missing ones. */
  private async store(
    batch: B,
    inner: unknown,
    rows: CacheRows,
    keys: readonly string[],
    got: readonly (TeacherCacheEntry | undefined)[],
  ): Promise<void> {
    const meta: { field: string; index?: number }[] = [];
    const tensors = tf.tidy(() => {
      const res = this.fallback.results(batch, inner);
      const picked: tf.Tensor[] = [];
      const add = (field: string, v: unknown, layers?: readonly number[]) => {
        if (v === undefined) return;
        const one = (t: tf.Tensor, index?: number) => {
          meta.push({ field, ...(index !== undefined ? { index } : {}) });
          // Cast so int masks come back as floats; tidy keeps only what is returned.
          picked.push(tf.cast(t, 'float32'));
        };
        if (Array.isArray(v)) (v as tf.Tensor[]).forEach((t, i) => t && (!layers || layers.includes(i)) && one(t, i));
        else one(v as tf.Tensor);
      };
      for (const f of TEACHER_FIELDS) add(f, res[f]);
      for (const [f, layers] of Object.entries(this.features)) add(f, res[f], layers);
      return picked;
    });
    const arrays = tensors.map((t, i) => ({ ...meta[i]!, shape: t.shape, data: t.dataSync() as Float32Array }));
    tf.dispose(tensors);
    const entries = keys.map((_, b): TeacherCacheEntry => ({
      rows: arrays.map((a): CachedRow => {
        const seqAxes = seqAxesOf(a.field, a.shape, rows.seqLen);
        const cut = cutRow(a.data, a.shape, b, seqAxes, rows.lengths[b]!);
        return {
          field: a.field,
          ...(a.index !== undefined ? { index: a.index } : {}),
          shape: cut.shape,
          seqAxes,
          data: cut.data,
        };
      }),
    }));
    for (let b = 0; b < keys.length; b++) if (!got[b]) await this.o.store.put(keys[b]!, entries[b]!);
  }
}
