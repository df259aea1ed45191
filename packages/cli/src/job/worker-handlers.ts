/**
 * The job kinds every `distillery worker` serves, loaded inside BullMQ's worker thread (see
 * @distillery/queue's sandbox): `trial` (a search trial) and the `teacher-cache` shard kind
 * (`distillery cache-teacher --queue`).
 */
import { createLogger, type LogLevel } from '@distillery/core';
import type { HandlerSet, TrialJobData } from '@distillery/queue';
import { runTrialJob } from './trial-handler.js';
import { teacherCacheShards } from './teacher-cache-shards.js';

const logger = createLogger('distillery', {
  level: (process.env.DISTILLERY_LOG_LEVEL as LogLevel | undefined) ?? 'info',
});

/** Built-in handlers. */
export const handlers: HandlerSet = {
  jobs: { trial: (d, ctx) => runTrialJob(d as TrialJobData, ctx, logger) },
  shards: { 'teacher-cache': teacherCacheShards },
};
