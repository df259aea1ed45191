/**
 * The demo (`npm run demo` = `distillery distill` without a config) at a tiny budget: teacher,
 * distilled student, baseline, ONNX + int8 export, the four-model benchmark, report and table; a
 * second run reuses the cached teacher and replaces the first run's outputs.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { silentLogger } from '@distillery/core';
import { DEMO_LABELS, runDemo } from '@distillery/cli';

function sink(): { out: Writable; text: () => string } {
  let text = '';
  return {
    out: new Writable({
      write(c, _e, cb) {
        text += String(c);
        cb();
      },
    }),
    text: () => text,
  };
}

describe('the demo', () => {
  it('writes results.json with the four models, the report, the student folder, and prints the table', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'demo-')), 'runs', 'demo');
    const opts = {
      logger: silentLogger,
      progress: false as const,
      outputDir: root,
      budget: { maxExamples: 200, teacherEpochs: 1, studentEpochs: 1 },
      latencyRuns: 5,
      throughputMs: 50,
    };
    const s = sink();
    const r = await runDemo({ ...opts, out: s.out });
    expect(r.teacherCache.reused).toBe(false);
    expect(r.budget.kind).toBe('custom');
    for (const f of Object.values(r.files)) expect(existsSync(f), f).toBe(true);
    expect(existsSync(join(r.files.student, 'config.json'))).toBe(true);
    const results = JSON.parse(readFileSync(r.files.results, 'utf8')) as {
      models?: Record<string, unknown>;
      records?: unknown;
    };
    const text = JSON.stringify(results);
    for (const label of Object.values(DEMO_LABELS)) expect(text).toContain(label);
    const rec = (l: string) => r.records.find((x) => x.label === l)!;
    expect(r.records).toHaveLength(4);
    expect(rec(DEMO_LABELS.int8).sizeMB).toBeLessThan(rec(DEMO_LABELS.student).sizeMB);
    expect(rec(DEMO_LABELS.int8).sizeMB).toBeLessThan(rec(DEMO_LABELS.teacher).sizeMB);
    const out = s.text();
    expect(out).toMatch(/model +accuracy +size MB/);
    for (const label of Object.values(DEMO_LABELS)) expect(out).toContain(label);
    expect(out).toMatch(/distilled student vs the same student without the teacher: [+-]\d+\.\d\d accuracy points/);
    expect(out).toContain('distillery predict --runtime onnx --model');
    expect(readFileSync(r.files.reportSvg, 'utf8')).toContain('<svg');

    // Second run: the teacher comes from the cache, the rest is replaced without flags.
    const again = await runDemo({ ...opts, out: sink().out });
    expect(again.teacherCache).toEqual({ dir: r.teacherCache.dir, reused: true });
    expect(again.records).toHaveLength(4);
  }, 600_000);
});
