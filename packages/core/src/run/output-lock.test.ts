import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DistilleryError } from '../util/errors.js';
import { LOCK_FILE, acquireOutputLock } from './output-lock.js';

// The children use the built module (as the CLI does); vitest runs this file from source.
const built = join(import.meta.dirname, '..', '..', 'dist', 'run', 'output-lock.js');
const script = (dir: string, hold: boolean) => `
import { acquireOutputLock } from ${JSON.stringify(built)};
try {
  const lock = acquireOutputLock(${JSON.stringify(dir)}, { logger: { info: (m) => console.log('info: ' + m), warn: (m) => console.log('warn: ' + m) } });
  console.log('locked ' + process.pid);
  ${hold ? 'setInterval(() => {}, 1000);' : 'lock.release();'}
} catch (e) { console.log('refused: ' + e.message); process.exit(3); }`;

const errorOf = (fn: () => unknown): DistilleryError => {
  try {
    fn();
  } catch (e) {
    return e as DistilleryError;
  }
  throw new Error('expected an error');
};

describe('output folder lock', () => {
  it('two processes: the second fails at once; after a SIGKILL the stale lock is reported and taken over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const holder = spawn(process.execPath, ['--input-type=module', '-e', script(dir, true)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (d) => String(d).includes('locked') && resolve());
      holder.on('exit', () => reject(new Error('holder exited')));
    });
    const lock = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    expect(lock.pid).toBe(holder.pid);
    const t0 = Date.now();
    const second = spawnSync(process.execPath, ['--input-type=module', '-e', script(dir, false)], { encoding: 'utf8' });
    expect(second.status).toBe(3);
    expect(second.stdout).toMatch(
      new RegExp(`refused: .*: another run is using this output folder \\(PID ${holder.pid} on .*, started `),
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(errorOf(() => acquireOutputLock(dir)).code).toBe('OUTPUT_LOCKED');
    holder.kill('SIGKILL');
    await new Promise((r) => holder.on('exit', r));
    const third = spawnSync(process.execPath, ['--input-type=module', '-e', script(dir, false)], { encoding: 'utf8' });
    expect(third.status).toBe(0);
    expect(third.stdout).toMatch(
      new RegExp(`warn: took over a stale lock in .*: its run \\(PID ${holder.pid} .*\\) is no longer running`),
    );
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false); // released
  }, 30_000);

  it('a used folder needs overwrite (which clears the old run) or resume; orphaned temp files go at the next start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    mkdirSync(join(dir, 'final'));
    mkdirSync(join(dir, 'teacher'));
    for (const f of [
      'gs10.safetensors',
      'gs20.safetensors',
      'metrics.jsonl',
      'summary.json',
      'notes.txt',
      '.gs30.safetensors.4242.0a1b2c3d.tmp',
      'teacher/gs5.safetensors',
      'final/model.safetensors',
    ])
      writeFileSync(join(dir, f), 'x');
    const e = errorOf(() => acquireOutputLock(dir));
    expect(e.code).toBe('OUTPUT_IN_USE');
    expect(e.message).toMatch(
      /previous run's outputs \(6 file\(s\), e\.g\. final, gs10\.safetensors, gs20\.safetensors\)/,
    );
    expect(e.message).toMatch(/--overwrite/);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false); // a refused run leaves no lock behind
    expect(existsSync(join(dir, '.gs30.safetensors.4242.0a1b2c3d.tmp'))).toBe(false);
    const r = acquireOutputLock(dir, { resume: true });
    expect(readdirSync(dir).sort()).toEqual([
      '.distillery.lock',
      'final',
      'gs10.safetensors',
      'gs20.safetensors',
      'metrics.jsonl',
      'notes.txt',
      'summary.json',
      'teacher',
    ]);
    r.release();
    const msgs: string[] = [];
    const l = acquireOutputLock(dir, {
      overwrite: true,
      logger: { info: (m) => msgs.push(m), warn: (m) => msgs.push(m) },
    });
    expect(readdirSync(dir).sort()).toEqual(['.distillery.lock', 'notes.txt', 'teacher']);
    expect(readdirSync(join(dir, 'teacher'))).toEqual([]);
    expect(msgs.join('\n')).toMatch(/--overwrite: removed 6 output\(s\)/);
    l.release();
    l.release(); // idempotent
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('an empty lock (its run killed while creating it) is taken over once it is a few seconds old; a fresh one is respected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const path = join(dir, LOCK_FILE);
    writeFileSync(path, '');
    expect(errorOf(() => acquireOutputLock(dir)).message).toMatch(/another run is starting in this output folder/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    const msgs: string[] = [];
    const l = acquireOutputLock(dir, { logger: { info: (m) => msgs.push(m), warn: (m) => msgs.push(m) } });
    expect(msgs.join('\n')).toMatch(/took over a stale lock .*: it was empty/);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    l.release();
  });
});
