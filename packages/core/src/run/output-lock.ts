/**
 * One run per output folder. A run takes `outputDir/.distillery.lock` (created with O_EXCL, so two
 * runs can never both hold it) holding its PID, host and start time. A lock left by a dead process
 * on this host is reported and taken over; a live one stops the second run at once. A folder that
 * holds a previous run's outputs needs `overwrite` (its checkpoints, metrics and summary are removed
 * first, so no stale `gs*` file can pass for the new run's) or `resume`. Temp files of atomic writes
 * killed mid-way are removed when the lock is taken.
 * @packageDocumentation
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DistilleryError } from '../util/errors.js';
import type { Logger } from '../plugin/types.js';

/** Name of the lock file inside the output folder. */
export const LOCK_FILE = '.distillery.lock';

/** What a lock file records. */
export interface LockInfo {
  pid: number;
  host: string;
  /** ISO time the run started. */
  startedAt: string;
  /** What took the lock (e.g. `distillery distill config.json`). */
  command?: string;
}

/** Options of {@link acquireOutputLock}. */
export interface OutputLockOptions {
  /**
   * The folder holds a previous run's outputs: remove its checkpoints (`gs*`, `checkpoint-*`),
   * `metrics.jsonl`, `summary.json`, `loss.svg` and `final/` (and those of its `teacher/` sub-run) first.
   * @default false
   */
  overwrite?: boolean;
  /** The run continues the previous one in this folder: its outputs are kept. @default false */
  resume?: boolean;
  /** Recorded in the lock file for whoever finds it. */
  command?: string;
  /** Where the stale-lock and clean-up messages go. */
  logger?: Pick<Logger, 'info' | 'warn'>;
}

/** A held lock; `release()` removes it (idempotent; only if it is still ours). */
export interface OutputLock {
  readonly path: string;
  readonly info: LockInfo;
  release(): void;
}

/** Temp files of `writeFileAtomic` (see io/atomic.ts) and checkpoint folders: `.<name>.<pid>.<8 hex>.tmp[.old]`. */
const TEMP_FILE = /^\..+\.\d+\.[0-9a-f]{8}\.tmp(\.old)?$/;
/** A previous run's outputs. */
const ARTIFACT = /^(gs\d+.*\.safetensors|checkpoint-.*|metrics\.jsonl|summary\.json|loss\.svg|final)$/;
/** Sub-runs written inside the output folder (the CLI trains a teacher in `teacher/`). */
const SUB_RUNS = ['teacher'];

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' && typeof info.host === 'string' ? info : undefined;
  } catch {
    return undefined; // missing, or being written by its creator right now
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function describe(info: LockInfo): string {
  return `PID ${info.pid} on ${info.host}, started ${info.startedAt}${info.command ? ` (${info.command})` : ''}`;
}

/** Files of a previous run in `dir` (and its sub-runs), as paths. */
function artifactsIn(dir: string): string[] {
  const out: string[] = [];
  for (const d of [dir, ...SUB_RUNS.map((s) => join(dir, s))]) {
    if (!existsSync(d) || !statSync(d).isDirectory()) continue;
    for (const f of readdirSync(d)) if (ARTIFACT.test(f)) out.push(join(d, f));
  }
  return out;
}

/** Remove orphaned temp files of killed atomic writes; returns how many. */
export function removeOrphanedTempFiles(dir: string): number {
  let n = 0;
  for (const d of [dir, ...SUB_RUNS.map((s) => join(dir, s))]) {
    if (!existsSync(d) || !statSync(d).isDirectory()) continue;
    for (const f of readdirSync(d)) {
      if (!TEMP_FILE.test(f)) continue;
      rmSync(join(d, f), { force: true, recursive: true });
      n++;
    }
  }
  return n;
}

/** Create the lock file with O_EXCL; false when it already exists. */
function tryCreate(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new DistilleryError('IO_WRITE_FAILED', `cannot create the output lock: ${(e as Error).message}`, {
      where: path,
      hint: 'check that training.outputDir is writable',
    });
  }
  try {
    writeSync(fd, JSON.stringify(info) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Take the lock of `outputDir` (created if needed). Throws `OUTPUT_LOCKED` when another live run
 * holds it, `OUTPUT_IN_USE` when the folder holds a previous run's outputs and neither `overwrite`
 * nor `resume` is set. A stale lock (dead PID on this host) is reported and taken over.
 */
export function acquireOutputLock(outputDir: string, opts: OutputLockOptions = {}): OutputLock {
  mkdirSync(outputDir, { recursive: true });
  const path = join(outputDir, LOCK_FILE);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    ...(opts.command ? { command: opts.command } : {}),
  };
  for (let attempt = 0; !tryCreate(path, info); attempt++) {
    const other = readLock(path);
    // An unreadable lock older than a few seconds was left by a run killed while creating it.
    const stale = other ? other.host === info.host && !processAlive(other.pid) : ageMs(path) > 5000;
    if (!stale || attempt > 2) {
      throw new DistilleryError(
        'OUTPUT_LOCKED',
        other
          ? `another run is using this output folder (${describe(other)})`
          : 'another run is starting in this output folder',
        {
          where: outputDir,
          hint:
            other && other.host !== info.host
              ? `wait for it, or choose another training.outputDir; if that run is gone, delete ${path}`
              : 'wait for it to finish, or choose another training.outputDir',
        },
      );
    }
    // Move the stale lock aside (rename is atomic: of two runs taking over, one wins) and check it
    // is still the stale one we judged; a fresh lock moved by mistake is put back.
    const aside = `${path}.stale.${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // someone else moved it first; try to create again
    }
    const moved = readLock(aside);
    if (moved && (moved.pid !== other?.pid || moved.startedAt !== other.startedAt)) {
      renameSync(aside, path);
      continue;
    }
    rmSync(aside, { force: true });
    opts.logger?.warn(
      `took over a stale lock in ${outputDir}: ${other ? `its run (${describe(other)}) is no longer running` : 'it was empty (its run was killed while starting)'}`,
    );
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    const now = readLock(path);
    if (now && now.pid === info.pid && now.startedAt === info.startedAt) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', release);
  try {
    const temps = removeOrphanedTempFiles(outputDir);
    if (temps) opts.logger?.info(`removed ${temps} orphaned temporary file(s) of interrupted writes in ${outputDir}`);
    const old = artifactsIn(outputDir);
    if (old.length && !opts.resume) {
      if (!opts.overwrite) {
        throw new DistilleryError(
          'OUTPUT_IN_USE',
          `the output folder holds a previous run's outputs (${old.length} file(s), e.g. ${old
            .slice(0, 3)
            .map((p) => p.slice(outputDir.length + 1))
            .join(', ')})`,
          {
            where: outputDir,
            hint: 'pass --overwrite to remove them and start again (or resume the run), or choose another training.outputDir',
          },
        );
      }
      for (const p of old) rmSync(p, { recursive: true, force: true });
      opts.logger?.info(`--overwrite: removed ${old.length} output(s) of the previous run in ${outputDir}`);
    }
  } catch (e) {
    release();
    throw e;
  }
  return { path, info, release };
}
