/**
 * `distillery worker`: one BullMQ worker serving Distillery's job kinds until stopped. Crash
 * safety is BullMQ's: a job's lock is renewed while it runs; a worker that dies (SIGKILL, lost
 * machine) stops renewing it, the stalled check moves the job back to the wait list and another
 * worker runs it. Failures are retried with exponential backoff (the submitter sets `attempts`);
 * after the last attempt the job stays in the failed set with its error.
 */
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DistilleryError, type Logger } from '@distillery/core';
import { QUEUE_NAME, loadBullmq, parseQueueUrl, redisClient } from './connection.js';
import type { HandlerSet } from './handlers.js';
import { dispatchJob, type DispatchJob } from './dispatch.js';

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** `redis://host:port`. */
  url: string;
  /**
   * Modules (URLs or specifiers) exporting `handlers`: jobs then run in worker threads (BullMQ's
   * sandboxed processors), the right choice for training and teacher inference.
   */
  handlerModules?: string[];
  /** In-process handlers (light jobs, tests); used when `handlerModules` is not given. */
  handlers?: HandlerSet;
  logger: Logger;
  /** Jobs run at once in this process. @default 1 (training uses every core already) */
  concurrency?: number;
  /** How long a job's lock lives without renewal (ms): a dead worker's job is free after this. @default 30000 */
  lockDuration?: number;
  /** How often stalled jobs are looked for (ms). @default 30000 */
  stalledInterval?: number;
  /** Times a job may stall (its worker died) before it fails for good. @default 2 */
  maxStalledCount?: number;
  /** Name shown in logs and stored on trials. @default `<host>:<pid>` */
  name?: string;
}

/** A running worker. */
export interface RunningWorker {
  readonly name: string;
  /** Resolves once the worker is connected and waiting for jobs. */
  ready: Promise<void>;
  /** Stop taking jobs; wait for the current one to finish (`force`: abandon it, BullMQ re-queues it). */
  close(force?: boolean): Promise<void>;
  /** Resolves when the worker has closed. */
  closed: Promise<void>;
}

/** Start a worker. It runs until {@link RunningWorker.close}. */
export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const conn = parseQueueUrl(o.url);
  const { Worker } = await loadBullmq();
  const log = o.logger;
  const name = o.name ?? `${hostname()}:${process.pid}`;
  const redis = await redisClient(conn);
  const hard = new AbortController();
  let processor: string | ((job: DispatchJob) => Promise<unknown>);
  if (o.handlerModules) {
    // Read by the sandbox thread (threads start with a copy of process.env).
    process.env.DISTILLERY_WORKER_HANDLERS = JSON.stringify(o.handlerModules);
    process.env.DISTILLERY_QUEUE_URL = o.url;
    processor = fileURLToPath(new URL('./sandbox.js', import.meta.url));
  } else {
    const handlers = o.handlers ?? {};
    processor = (job) => dispatchJob(job, handlers, { logger: log, signal: hard.signal, get: (k) => redis.get(k) });
  }
  const worker = new Worker(QUEUE_NAME, processor as never, {
    connection: conn,
    name,
    concurrency: o.concurrency ?? 1,
    lockDuration: o.lockDuration ?? 30_000,
    stalledInterval: o.stalledInterval ?? 30_000,
    maxStalledCount: o.maxStalledCount ?? 2,
    useWorkerThreads: true,
    autorun: true,
  });
  worker.on('failed', (job, err) =>
    log.warn(`job ${job?.id} (${job?.name}) failed (attempt ${job?.attemptsMade}): ${err.message}`),
  );
  worker.on('error', (err) => log.error(`worker: ${err.message}`));
  const closed = new Promise<void>((resolve) => worker.on('closed', () => resolve()));
  let closing: Promise<void> | undefined;
  return {
    name,
    ready: worker.waitUntilReady().then(() => undefined),
    closed,
    close: async (force = false) => {
      if (force) hard.abort(new Error('worker stopped'));
      closing ??= (async () => {
        await worker.close(force);
        await redis.quit().catch(() => undefined);
      })();
      await closing;
    },
  };
}

/** Connect, check the server answers, and close (for a clear error before the first job). */
export async function pingQueue(url: string): Promise<void> {
  const conn = parseQueueUrl(url);
  const redis = await redisClient(conn, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    throw new DistilleryError('QUEUE_UNREACHABLE', `cannot reach Redis at ${url}: ${(e as Error).message}`, {
      where: '--queue',
      hint: 'start redis-server there (or pass the right host:port)',
    });
  } finally {
    redis.disconnect();
  }
}
