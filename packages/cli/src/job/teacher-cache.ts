/**
 * `distillation.teacherCache` in jobs: the store (memory, or a folder with `dir`), the namespace
 * (content hash of the teacher's weights or ONNX file, the adaptor-relevant config and the cached
 * fields), and the per-example keys of text batches (text + token ids, see @distillery/data's
 * cacheRowsOf). Shared by `distillery distill` and `distillery cache-teacher`.
 */
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import {
  CachedTeacher,
  DirTeacherCacheStore,
  MemoryTeacherCacheStore,
  contentHash,
  teacherCacheFields,
  weightsFingerprint,
  type BasicDistiller,
  type DistillModel,
  type Logger,
  type TeacherCacheStore,
  type TeacherSide,
} from '@distillery/core';
import { cacheRowsOf, type EncodedBatch } from '@distillery/data';
import type { JobConfig, ModelConfig } from './schema.js';
import { onnxTeacherFiles } from './onnx.kit.js';

/** Bump when what is stored for a config changes meaning. */
const CACHE_FORMAT = 'distillery-teacher-cache/1';

async function fileHash(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Content hash of a teacher: its ONNX file (and I/O mapping), or every weight of a tfjs model. */
export async function teacherFingerprint(m: ModelConfig, model: DistillModel<unknown>): Promise<string> {
  if (m.type === 'onnx')
    return contentHash(
      'onnx',
      await fileHash(onnxTeacherFiles(m).file),
      JSON.stringify({ inputs: m.inputs, outputs: m.outputs }),
    );
  const weights = (model as { weights?: () => Readonly<Record<string, never>> }).weights?.() ?? model.parameters();
  return contentHash(m.type, weightsFingerprint(weights));
}

/** The namespace of a job's cache entries: teacher(s) + adaptor-relevant config + cached fields. */
export function cacheNamespace(
  cfg: JobConfig,
  teacherPrints: readonly string[],
  extra: Record<string, unknown> = {},
): string {
  return contentHash(
    CACHE_FORMAT,
    ...teacherPrints,
    JSON.stringify({
      maxLength: cfg.task.maxLength,
      fields: teacherCacheFields(cfg.distillation.intermediateMatches),
      ...extra,
    }),
  );
}

/** The namespace of a single- or multi-teacher job (teachers in config order, with their weights). */
export async function jobNamespace(
  cfg: JobConfig,
  teachers: readonly DistillModel<unknown>[],
  teacherSize: number,
): Promise<string> {
  const prints = await Promise.all(
    teachers.map((t, i) => teacherFingerprint(cfg.teachers?.[i]?.model ?? cfg.teacher.model, t)),
  );
  return cacheNamespace(cfg, prints, { teacherSize, weights: cfg.teachers?.map((t) => t.weight ?? 1) });
}

/** The store a config asks for. */
export function openCacheStore(cfg: JobConfig): TeacherCacheStore {
  const c = cfg.distillation.teacherCache;
  return typeof c === 'object' && c.dir ? new DirTeacherCacheStore(c.dir, c.dtype) : new MemoryTeacherCacheStore();
}

/** Rows of a batch: text batches only (bag-of-words MLP batches carry no texts, so they run live). */
export function jobRowsOf(batch: unknown): ReturnType<typeof cacheRowsOf> {
  // A paired batch (student.tokenizer) is keyed by the teacher's side: the teacher reads that one.
  const p = batch as { teacher?: EncodedBatch };
  const b = (p.teacher ?? batch) as Partial<EncodedBatch>;
  return b.inputIds && b.attentionMask ? cacheRowsOf(b as EncodedBatch) : undefined;
}

/** Wrap a distiller's teacher in the job's cache. */
export function attachTeacherCache<B>(
  distiller: Pick<BasicDistiller<B>, 'useTeacherCache'>,
  cfg: JobConfig,
  namespace: string,
  log: Logger,
  rowsOf: (b: B) => ReturnType<typeof cacheRowsOf> = jobRowsOf,
  store: TeacherCacheStore = openCacheStore(cfg),
): CachedTeacher<B> {
  log.info(`teacher cache: ${store.description}`);
  return distiller.useTeacherCache({ store, namespace, rowsOf });
}

/** A standalone cached teacher side (for `distillery cache-teacher`; a shard passes its own view of the store). */
export function cachedSide<B>(
  side: TeacherSide<B>,
  cfg: JobConfig,
  namespace: string,
  rowsOf: (b: B) => ReturnType<typeof cacheRowsOf> = jobRowsOf,
  store: TeacherCacheStore = openCacheStore(cfg),
): CachedTeacher<B> {
  return new CachedTeacher(side, {
    store,
    namespace,
    rowsOf,
    fields: teacherCacheFields(cfg.distillation.intermediateMatches),
  });
}

/** One line about a run's cache use. */
export function cacheReport(c: CachedTeacher<unknown>): string {
  const s = c.stats;
  return `teacher cache: ${s.cachedBatches} batches from the cache, ${s.liveBatches} ran the teacher (${s.hits} example hits, ${s.misses} misses)`;
}
