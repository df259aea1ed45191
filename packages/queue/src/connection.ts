/**
 * Where the queue lives: a `redis://[user:password@]host:port[/db]` URL, parsed into the options
 * BullMQ and ioredis take. BullMQ itself is imported lazily ({@link loadBullmq}) so that nothing
 * in the default (in-process) path ever loads it or needs a Redis server.
 */
import { DistilleryError } from '@distillery/core';

/** Name of the one BullMQ queue every Distillery job goes through (job names tell kinds apart). */
export const QUEUE_NAME = 'distillery';

/** Connection options for BullMQ / ioredis. */
export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  /** BullMQ workers need blocking commands that never give up. */
  maxRetriesPerRequest: null;
}

/** Parse `redis://host:port[/db]` (`rediss://` for TLS is not supported yet: the error says so). */
export function parseQueueUrl(url: string, where = '--queue'): RedisConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DistilleryError('USAGE', `"${url}" is not a Redis URL`, {
      where,
      hint: 'write redis://host:6379 (e.g. redis://127.0.0.1:6379)',
    });
  }
  if (u.protocol !== 'redis:')
    throw new DistilleryError('USAGE', `unsupported queue URL scheme "${u.protocol}"`, {
      where,
      hint: 'only redis://host:port[/db] is supported',
    });
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db))
    throw new DistilleryError('USAGE', `"${u.pathname.slice(1)}" is not a Redis database number`, {
      where,
      hint: 'redis://host:6379/0',
    });
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined ? { db } : {}),
    maxRetriesPerRequest: null,
  };
}

/** BullMQ, loaded on first use (queued mode only). */
export async function loadBullmq(): Promise<typeof import('bullmq')> {
  return import('bullmq');
}

/** A plain ioredis client (prune flags), loaded on first use. */
export async function redisClient(
  conn: RedisConnection,
  extra: Record<string, unknown> = {},
): Promise<import('ioredis').Redis> {
  const { Redis } = await import('ioredis');
  return new Redis({ ...conn, ...extra });
}

/** The Redis key a submitter sets to tell a running trial to stop (pruned). */
export const pruneKey = (jobId: string) => `${QUEUE_NAME}:prune:${jobId}`;
