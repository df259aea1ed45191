/**
 * A throw-away `redis-server` for tests and local trials: a free loopback port, no persistence,
 * killed by `stop()`. Tests use {@link redisServerPath} to skip (or fail under CI=true) when the
 * binary is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { DistilleryError } from '@distillery/core';

/** The redis-server binary, or undefined when it is not installed. */
export function redisServerPath(): string | undefined {
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A running test server. */
export interface LocalRedis {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Start redis-server on a free loopback port and wait until it answers PING. */
export async function startLocalRedis(): Promise<LocalRedis> {
  const bin = redisServerPath();
  if (!bin)
    throw new DistilleryError('QUEUE_NO_REDIS', 'redis-server is not installed', {
      hint: 'apt-get install redis-server',
    });
  const port = await freePort();
  const proc = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => (out += String(d)));
  proc.stderr.on('data', (d) => (out += String(d)));
  const { Redis } = await import('ioredis');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') {
        c.disconnect();
        break;
      }
    } catch {
      c.disconnect();
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new DistilleryError('QUEUE_NO_REDIS', `redis-server did not answer on port ${port}: ${out.slice(-500)}`, {
        hint: 'run redis-server by hand to see why',
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/**
 * Whether Redis-backed tests can run: true when redis-server is installed. Outside CI a missing
 * binary logs why the tests skip; under `CI=true` it throws, so those tests fail instead.
 */
export function redisReady(): boolean {
  if (redisServerPath()) return true;
  const msg = 'redis-server is not installed (apt-get install redis-server); the BullMQ tests need it';
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI=true requires redis-server: ${msg}`);
  console.warn(`[queue] skipping: ${msg}`);
  return false;
}
