/**
 * `metrics.jsonl`: one JSON object per line (`type`, `globalStep`, …). Each line goes out in one
 * `write` call on an append-mode descriptor, so a killed process never leaves half a line; the
 * file is fsynced at every checkpoint. A resumed run keeps the lines up to its checkpoint's step
 * and appends from there: no step is duplicated or missing.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';

/** Lines of an earlier run's metrics.jsonl that a resume at `globalStep` keeps. */
export function metricsLinesUpTo(text: string, globalStep: number): string[] {
  const keep: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let rec: { type?: string; globalStep?: number };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      continue; // a torn line of a crashed writer (older versions appended without this guarantee)
    }
    if (rec.type === 'trainEnd') continue;
    if ((rec.globalStep ?? 0) > globalStep) continue;
    keep.push(line);
  }
  return keep;
}

/** Appends one JSON object per line to `<dir>/metrics.jsonl`. */
export class MetricsWriter {
  readonly file: string;
  private fd: number | undefined;

  /** Starts a fresh file, unless `open: false` (then {@link open} decides, once the resume step is known). */
  constructor(dir: string, opts: { open?: boolean } = {}) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'metrics.jsonl');
    if (opts.open !== false) this.open();
  }

  /** A fresh file, or (with `resumeAt`) the earlier run's lines up to that step, rewritten atomically. */
  open(resumeAt?: number): void {
    this.close();
    const kept =
      resumeAt !== undefined && existsSync(this.file)
        ? metricsLinesUpTo(readFileSync(this.file, 'utf8'), resumeAt)
        : [];
    writeFileAtomicSync(this.file, kept.map((l) => l + '\n').join(''));
    this.fd = openSync(this.file, 'a');
  }

  write(rec: Record<string, unknown>): void {
    if (this.fd === undefined) this.fd = openSync(this.file, 'a');
    writeSync(this.fd, JSON.stringify({ time: new Date().toISOString(), ...rec }) + '\n');
  }

  /** Force the lines so far to disk (called at each checkpoint). */
  flush(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }
}
