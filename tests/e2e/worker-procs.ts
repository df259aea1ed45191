/**
 * `distillery worker` child processes for the queue end-to-end tests (search trials, teacher-cache shards):
 * start one and wait for its ready line, poll for a condition, read which jobs a worker started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');
/** The built CLI. */
export const bin = join(repo, 'packages', 'cli', 'dist', 'bin.js');
/** The test's environment without vitest's variables (a child is a plain CLI process). */
export const childEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));

/** A worker process and everything it printed so far. */
export interface WorkerProc {
  proc: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

/** Resolve once `cond()` holds; reject after `ms` with `what()` in the message. */
export async function until(cond: () => boolean, ms: number, what: () => string = () => ''): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Start a `distillery worker` on `url` (short lock and stall intervals) and wait for its ready line. */
export async function startWorkerProc(url: string, extra: string[] = []): Promise<WorkerProc> {
  const proc = spawn(
    process.execPath,
    [bin, 'worker', '--queue', url, '--lock-duration', '3000', '--stalled-interval', '1000', ...extra],
    { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const w: WorkerProc = { proc, log: '', exited: new Promise((r) => proc.on('exit', (code) => r(code))) };
  proc.stdout.on('data', (d) => (w.log += String(d)));
  proc.stderr.on('data', (d) => (w.log += String(d)));
  await until(
    () => w.log.includes('waiting for jobs') || proc.exitCode !== null,
    60_000,
    () => w.log,
  );
  if (proc.exitCode !== null) throw new Error(`worker exited: ${w.log}`);
  return w;
}

/** Ids of the jobs a worker's log says it started, in order. */
export const startedJobs = (log: string) => [...log.matchAll(/job (\S+) \(([^)]+)\) started/g)].map((m) => m[1]!);
