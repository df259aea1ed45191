/**
 * The sandboxed processor: BullMQ runs it in a worker thread, so a job's CPU-bound training never
 * blocks the worker's main thread, which keeps renewing the job's lock (a blocked event loop would
 * let the lock lapse and hand a healthy job to a second worker). A SIGKILLed worker takes its
 * threads with it; the lapsed lock then moves the job to another worker.
 *
 * The thread reads what to load from the environment the worker set before starting:
 * `DISTILLERY_WORKER_HANDLERS` (JSON list of module URLs) and `DISTILLERY_QUEUE_URL`.
 */
import { createLogger, type LogLevel } from '@distillery/core';
import { parseQueueUrl, redisClient } from './connection.js';
import { dispatchJob, loadHandlerModules, type DispatchJob } from './dispatch.js';
import type { HandlerSet } from './handlers.js';

let handlers: Promise<HandlerSet> | undefined;
let redis: ReturnType<typeof redisClient> | undefined;
const logger = createLogger('distillery', {
  level: (process.env.DISTILLERY_LOG_LEVEL as LogLevel | undefined) ?? 'info',
});

export default async function process_(job: DispatchJob): Promise<unknown> {
  handlers ??= loadHandlerModules(JSON.parse(process.env.DISTILLERY_WORKER_HANDLERS ?? '[]') as string[]);
  redis ??= redisClient(parseQueueUrl(process.env.DISTILLERY_QUEUE_URL ?? 'redis://127.0.0.1:6379'));
  const r = await redis;
  return dispatchJob(job, await handlers, { logger, signal: new AbortController().signal, get: (k) => r.get(k) });
}
