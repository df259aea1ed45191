/**
 * Where cached teacher outputs live: one entry per example, by key. The {@link TeacherCacheStore}
 * interface is all a cached teacher needs, so a remote store (S3/MinIO) or a queue of precompute
 * workers can stand in for the two implementations here: {@link MemoryTeacherCacheStore} (one run)
 * and {@link DirTeacherCacheStore} (a folder shared by runs: sharded entry files plus a manifest).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { f16ToF32, f32ToF16 } from '../io/half.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { DistilleryError } from '../util/errors.js';

/** Precision of stored rows. */
export type TeacherCacheDtype = 'float16' | 'float32';

/**
 * One tensor of one example: the batch axis removed and every sequence axis cut to the example's
 * own length (`seqAxes`, axes of `shape`), so a later batch of any padding can re-pad it.
 */
export interface CachedRow {
  /** Adaptor output field (`logits`, `logitsMask`, `inputsMask`, or a feature such as `hidden`). */
  readonly field: string;
  /** Position in the field's list; undefined when the field was a single tensor. */
  readonly index?: number;
  readonly shape: readonly number[];
  readonly seqAxes: readonly number[];
  readonly data: Float32Array;
}

/** Everything cached about one example. */
export interface TeacherCacheEntry {
  readonly rows: readonly CachedRow[];
}

/** Storage of cached teacher outputs; every method may be async (remote stores). */
export interface TeacherCacheStore {
  /** Human description for logs ("memory", the folder). */
  readonly description: string;
  has(key: string): boolean | Promise<boolean>;
  /** The entry, or undefined when absent (or unreadable: then it is recomputed and overwritten). */
  get(key: string): TeacherCacheEntry | undefined | Promise<TeacherCacheEntry | undefined>;
  put(key: string, entry: TeacherCacheEntry): void | Promise<void>;
  /** Persist bookkeeping (the manifest); called at the end of a run. */
  flush?(): void | Promise<void>;
  /**
   * Called once after every writer of a sharded fill has finished (the merge of
   * `distillery cache-teacher --queue`): drop what writers that died left half-written, then write
   * the bookkeeping as `flush` does. Shard workers only `put`; they never flush.
   */
  seal?(): void | Promise<void>;
}

/** In-memory store: reuse across the epochs (and runs) of one process. */
export class MemoryTeacherCacheStore implements TeacherCacheStore {
  readonly description = 'memory';
  private readonly map = new Map<string, TeacherCacheEntry>();
  get size(): number {
    return this.map.size;
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  get(key: string): TeacherCacheEntry | undefined {
    return this.map.get(key);
  }
  put(key: string, entry: TeacherCacheEntry): void {
    this.map.set(key, entry);
  }
}

const MAGIC = 0x44544331; // "DTC1"
const MANIFEST = 'manifest.json';

/**
 * Manifest of a cache folder (informational: the entry files are the truth). It holds no timestamp
 * or writer identity, so the same entries give the same bytes however they were written (one
 * process, or shards on several machines).
 */
export interface TeacherCacheManifest {
  format: 'distillery-teacher-cache';
  version: 1;
  dtype: TeacherCacheDtype;
  /** Entry files in the folder when the manifest was written (by this and earlier runs). */
  entries: number;
}

/** Serialise an entry: magic, header length, JSON header, then the rows' data (f16 or f32). */
export function encodeCacheEntry(entry: TeacherCacheEntry, dtype: TeacherCacheDtype): Uint8Array {
  const bytesPer = dtype === 'float16' ? 2 : 4;
  const header = JSON.stringify({
    dtype,
    rows: entry.rows.map((r) => ({
      field: r.field,
      index: r.index,
      shape: r.shape,
      seqAxes: r.seqAxes,
      n: r.data.length,
    })),
  });
  const head = new TextEncoder().encode(header);
  const total = entry.rows.reduce((n, r) => n + r.data.length, 0);
  const out = new Uint8Array(8 + head.length + total * bytesPer);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, head.length, true);
  out.set(head, 8);
  let off = 8 + head.length;
  for (const r of entry.rows) {
    const raw = dtype === 'float16' ? f32ToF16(r.data) : r.data;
    out.set(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), off);
    off += raw.byteLength;
  }
  return out;
}

/** Parse an entry written by {@link encodeCacheEntry}; undefined when the bytes are not one (truncated, foreign). */
export function decodeCacheEntry(bytes: Uint8Array): TeacherCacheEntry | undefined {
  if (bytes.length < 8) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) return undefined;
  const hl = dv.getUint32(4, true);
  if (8 + hl > bytes.length) return undefined;
  let header: {
    dtype: TeacherCacheDtype;
    rows: { field: string; index?: number; shape: number[]; seqAxes: number[]; n: number }[];
  };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hl))) as typeof header;
  } catch {
    return undefined;
  }
  const bytesPer = header.dtype === 'float16' ? 2 : 4;
  let off = 8 + hl;
  const rows: CachedRow[] = [];
  for (const r of header.rows) {
    const len = r.n * bytesPer;
    if (off + len > bytes.length) return undefined;
    // Copy (a Node Buffer's slice is a view into a shared pool): typed-array views need their own aligned buffer.
    const chunk = new Uint8Array(len);
    chunk.set(bytes.subarray(off, off + len));
    const data = header.dtype === 'float16' ? f16ToF32(new Uint16Array(chunk.buffer)) : new Float32Array(chunk.buffer);
    rows.push({
      field: r.field,
      ...(r.index !== undefined ? { index: r.index } : {}),
      shape: r.shape,
      seqAxes: r.seqAxes,
      data,
    });
    off += len;
  }
  return off === bytes.length ? { rows } : undefined;
}

/**
 * A cache folder: `<dir>/<first two hex digits of the key>/<key>.bin` per example (256 shards, so no
 * folder grows huge) and `<dir>/manifest.json`. Entry files are written to a temp name and renamed
 * (a reader never sees half a file; a torn file fails its length check and is recomputed), so several
 * writers, e.g. precompute workers, can fill one folder. Keys are content hashes, so an entry never
 * goes stale: a changed teacher, tokenizer or text makes a new key.
 */
export class DirTeacherCacheStore implements TeacherCacheStore {
  readonly description: string;
  private written = 0;

  constructor(
    readonly dir: string,
    readonly dtype: TeacherCacheDtype = 'float16',
  ) {
    this.description = `${dir} (${dtype})`;
    mkdirSync(dir, { recursive: true });
    const m = DirTeacherCacheStore.manifest(dir);
    if (m && m.dtype !== dtype) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        `teacher cache folder ${dir} holds ${m.dtype} entries, but the config asks for ${dtype}`,
        {
          where: 'distillation.teacherCache.dtype',
          hint: `set dtype: "${m.dtype}", or point teacherCache.dir at another folder`,
        },
      );
    }
  }

  /** The folder's manifest, or undefined when it has none yet. */
  static manifest(dir: string): TeacherCacheManifest | undefined {
    const p = join(dir, MANIFEST);
    if (!existsSync(p)) return undefined;
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as TeacherCacheManifest;
    } catch (e) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        `teacher cache manifest ${p} is not valid JSON: ${(e as Error).message}`,
        { where: p, hint: 'delete the file (entries stay usable) or the whole cache folder' },
      );
    }
  }

  /** Count the entry files on disk (slow on huge caches; for reports). */
  static countEntries(dir: string): number {
    if (!existsSync(dir)) return 0;
    let n = 0;
    for (const d of readdirSync(dir, { withFileTypes: true }))
      if (d.isDirectory() && /^[0-9a-f]{2}$/.test(d.name))
        n += readdirSync(join(dir, d.name)).filter((f) => f.endsWith('.bin')).length;
    return n;
  }

  private path(key: string): string {
    if (!/^[0-9a-zA-Z_-]{3,}$/.test(key))
      throw new DistilleryError('INVALID_INPUT', `teacher cache key "${key}" is not a hash`, { where: this.dir });
    return join(this.dir, key.slice(0, 2), `${key}.bin`);
  }

  has(key: string): boolean {
    return existsSync(this.path(key));
  }

  get(key: string): TeacherCacheEntry | undefined {
    const p = this.path(key);
    if (!existsSync(p)) return undefined;
    return decodeCacheEntry(readFileSync(p));
  }

  put(key: string, entry: TeacherCacheEntry): void {
    const p = this.path(key);
    mkdirSync(join(this.dir, key.slice(0, 2)), { recursive: true });
    // Temp file + rename, without fsync per entry (thousands of small files): a torn entry after a
    // power loss fails decodeCacheEntry's checks and is recomputed, never read as wrong numbers.
    const tmp = `${p}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      writeFileSync(tmp, encodeCacheEntry(entry, this.dtype));
      renameSync(tmp, p);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        /* already gone */
      }
      throw new DistilleryError('IO_WRITE_FAILED', `could not write teacher cache entry: ${(e as Error).message}`, {
        where: p,
        hint: 'check that teacherCache.dir is writable and has space',
        cause: e,
      });
    }
    this.written++;
  }

  /** Write the manifest, counting the entry files (a warm run that wrote nothing leaves it as it is). */
  flush(): void {
    if (this.written === 0 && existsSync(join(this.dir, MANIFEST))) return;
    this.writeManifest();
  }

  /**
   * After a sharded fill: delete the temp files of writers killed between write and rename (at
   * this point no writer of the fill is alive, so every `*.tmp` left is one), then write the manifest.
   */
  seal(): void {
    const partial = (n: string) => n.endsWith('.tmp');
    for (const d of readdirSync(this.dir, { withFileTypes: true })) {
      if (d.isFile() && partial(d.name)) unlinkSync(join(this.dir, d.name));
      else if (d.isDirectory() && /^[0-9a-f]{2}$/.test(d.name)) {
        for (const f of readdirSync(join(this.dir, d.name))) if (partial(f)) unlinkSync(join(this.dir, d.name, f));
      }
    }
    this.writeManifest();
  }

  private writeManifest(): void {
    // Counted, not tallied per process: concurrent writers and re-run shards all agree on the folder.
    const m: TeacherCacheManifest = {
      format: 'distillery-teacher-cache',
      version: 1,
      dtype: this.dtype,
      entries: DirTeacherCacheStore.countEntries(this.dir),
    };
    writeFileAtomicSync(join(this.dir, MANIFEST), JSON.stringify(m, null, 2) + '\n');
  }
}
