import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Appends one JSON object per line to `<dir>/metrics.jsonl` (created fresh per run). */
export class MetricsWriter {
  readonly file: string;
  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'metrics.jsonl');
    writeFileSync(this.file, '');
  }
  write(rec: Record<string, unknown>): void {
    appendFileSync(this.file, JSON.stringify({ time: new Date().toISOString(), ...rec }) + '\n');
  }
}
