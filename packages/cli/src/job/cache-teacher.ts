/**
 * `distillery cache-teacher <config>`: run the job's teacher once over every training example and
 * store its outputs in `distillation.teacherCache.dir`, so later `distill` runs (on this machine or
 * another one reading the folder) never run the teacher. Only missing entries are computed. The
 * sharded form (`--queue`, teacher-cache-shards.ts) walks the same batch list on workers.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import {
  DistilleryError,
  DirTeacherCacheStore,
  LiveTeacher,
  MultiTeacher,
  averageTeacherLogits,
  initBackend,
  type Logger,
  type TeacherCacheDtype,
  type TeacherSide,
} from '@distillery/core';
import type { JobConfig } from './schema.js';
import { loadTaskData, teacherLabelsOf } from './data.js';
import { bertKit } from './bert.kit.js';
import type { Kit } from './kits.js';
import { cachedSide, jobNamespace } from './teacher-cache.js';
import { buildOtherTeachers } from './multi-teacher.job.js';
import { RunProgress } from '../progress.js';
import { addUnlabelled } from './unlabelled.js';

/** What {@link precomputeTeacherCache} did. */
export interface CacheTeacherSummary {
  dir: string;
  dtype: string;
  examples: number;
  /** Examples whose outputs were computed now. */
  computed: number;
  /** Examples already in the cache. */
  cached: number;
  seconds: number;
  /** Entry files in the folder afterwards. */
  entries: number;
}

/** The cache folder of a config that `cache-teacher` can fill; a clear error otherwise (checked before any work). */
export function cacheTeacherTarget(cfg: JobConfig): { dir: string; dtype: TeacherCacheDtype } {
  const c = cfg.distillation.teacherCache;
  if (typeof c !== 'object' || !c.dir) {
    throw new DistilleryError('CONFIG_INVALID', 'cache-teacher needs a cache folder: distillation.teacherCache.dir', {
      where: 'distillation.teacherCache',
      hint: 'set "teacherCache": { "dir": "teacher-cache", "dtype": "float16" } in the distillation section',
    });
  }
  if (cfg.tasks) {
    throw new DistilleryError('CONFIG_INVALID', 'cache-teacher does not precompute "tasks" jobs yet', {
      where: 'tasks',
      hint: 'run distillery distill: with teacherCache.dir it fills the folder as it goes, and later runs reuse it',
    });
  }
  const tm = cfg.teacher.model;
  if (tm.type === 'mlp' || (tm.type === 'bert' && !tm.pretrained)) {
    throw new DistilleryError(
      'CONFIG_INVALID',
      'cache-teacher needs a teacher that exists before the run (a pretrained BERT folder or an ONNX file); this one is trained by distill itself',
      {
        where: 'teacher.model',
        hint: 'point teacher.model at a pretrained folder ("pretrained") or an ONNX file ("type": "onnx"); distill fills the cache as it goes otherwise',
      },
    );
  }
  return { dir: c.dir, dtype: c.dtype };
}

/** sha256 of a config's text: a queued flow's workers check that the file they load is the one submitted. */
export const configHashOf = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Everything a pass over the teacher's batches needs: the same for one process and for each shard. */
export interface TeacherCachePass {
  dir: string;
  dtype: TeacherCacheDtype;
  /** Every training (and unlabelled) example once, in a fixed order: `distillSource(seed + 1)`'s epoch 0. */
  batches: unknown[];
  /** The live teacher side (one teacher, or the weighted mean of several), as distill builds it. */
  live: TeacherSide<unknown>;
  /** Content hash of the teachers and the adaptor-relevant config (prefix of every key). */
  namespace: string;
  dispose(): void;
}

/** Load the data, tokenize, build the teacher(s): the deterministic batch list both paths walk. */
export async function openTeacherCachePass(cfg: JobConfig, log: Logger): Promise<TeacherCachePass> {
  const { dir, dtype } = cacheTeacherTarget(cfg);
  await initBackend({ backend: cfg.training.backend, logger: log });
  const data = loadTaskData(cfg.task.data, cfg.training.seed, { teacherLabels: teacherLabelsOf(cfg), logger: log });
  addUnlabelled(cfg, data, log);
  const kit = (await bertKit(data, cfg)) as Kit<unknown>;
  const teacher = await kit.build(cfg.teacher.model, cfg.training.seed, 'teacher');
  const others = cfg.teachers ? await buildOtherTeachers(cfg, kit, cfg.training.seed) : [];
  const namespace = await jobNamespace(cfg, [teacher, ...others], data.teacherSize);
  // The same teacher side as distill's: one live teacher, or the (weighted) mean of several.
  const weights = cfg.teachers?.some((t) => t.weight !== undefined)
    ? cfg.teachers.map((t) => t.weight ?? 1)
    : undefined;
  const live = others.length
    ? new MultiTeacher(
        [teacher, ...others].map((m) => ({ model: m as never, adaptor: kit.adaptor })),
        (r) => averageTeacherLogits(r, weights),
      )
    : new LiveTeacher(teacher as never, kit.adaptor);
  // Every example once (the same keys as any later epoch's batches, whatever their order or padding).
  const src = (kit.distillSource ?? kit.trainSource)(cfg.training.seed + 1);
  const batches = Array.isArray(src)
    ? (src as unknown[])
    : [...(src as { epoch(e: number): Iterable<unknown> }).epoch(0)];
  return {
    dir,
    dtype,
    batches,
    live,
    namespace,
    dispose: () => {
      teacher.dispose?.();
      for (const t of others) t.dispose?.();
    },
  };
}

/** Fill the config's teacher cache folder with the teacher's outputs on the training examples. */
export async function precomputeTeacherCache(
  cfg: JobConfig,
  opts: { logger: Logger; progress?: boolean | 'lines' },
): Promise<CacheTeacherSummary> {
  const log = opts.logger;
  const pass = await openTeacherCachePass(cfg, log);
  const { batches, dir } = pass;
  const side = cachedSide(pass.live, cfg, pass.namespace);
  const progress = opts.progress
    ? new RunProgress(process.stderr, { bar: opts.progress === 'lines' ? false : undefined })
    : undefined;
  const bar = progress?.evaluation('teacher', batches.length, `caching teacher outputs in ${dir}`);
  const t0 = Date.now();
  let examples = 0;
  try {
    for (const [i, b] of batches.entries()) {
      await side.fill(b, { epoch: 0, dataIndex: i });
      examples += (b as { batchSize: number }).batchSize;
      bar?.tick();
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    bar?.done();
    await side.flush();
    pass.dispose();
    progress?.stop();
  }
  log.debug('tensors alive after cache-teacher', { numTensors: tf.memory().numTensors });
  return {
    dir,
    dtype: pass.dtype,
    examples,
    computed: side.stats.misses,
    cached: side.stats.hits,
    seconds: (Date.now() - t0) / 1000,
    entries: DirTeacherCacheStore.manifest(dir)?.entries ?? 0,
  };
}
