import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  curvePoints,
  readResults,
  trainingCurvesSvg,
  tradeoffHtml,
  tradeoffSpec,
  tradeoffSvg,
  tradeoffTable,
  upsertResult,
  writeReport,
  type BenchRecord,
} from './index.js';

const rec = (label: string, accuracy: number, latency: number, sizeMB: number): BenchRecord => ({
  label,
  model: `/m/${label}`,
  runtime: 'tfjs',
  split: 'test',
  n: 100,
  accuracy,
  sizeMB,
  latencyMs: { mean: latency, std: latency / 10, p50: latency, p95: latency * 1.2, runs: 100 },
  throughput: { batchSize: 32, textsPerSecond: 1000 / latency },
  date: '2026-11-30T00:00:00Z',
});

describe('trade-off report', () => {
  it('accumulates results by label and renders SVG and HTML with the current model highlighted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const file = join(dir, 'results.json');
    await upsertResult(file, rec('teacher', 0.8, 20, 16.2));
    await upsertResult(file, rec('student', 0.7, 5, 4.1));
    await upsertResult(file, rec('student', 0.75, 5, 4.1)); // replaces, not appends
    const r = readResults(file);
    expect(Object.keys(r.results)).toEqual(['teacher', 'student']);
    expect(r.current).toBe('student');
    const svg = await tradeoffSvg(r);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('teacher');
    expect(svg).toContain('latency per query');
    expect(svg).toContain('#d62728'); // the highlight colour
    const t = tradeoffTable(r);
    expect(t.reference).toBe('teacher');
    expect(t.rows[0]![0]).toBe('student');
    expect(t.rows[0]![8]).toBe('4.00×');
    const html = await tradeoffHtml(r);
    expect(html).toContain('<table>');
    expect(html).toContain('<tr class="current"><td>student</td>');
    await writeReport({ results: file, out: join(dir, 'r.html') });
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toContain('<svg');
    await expect(writeReport({ results: file, out: join(dir, 'r.png') })).rejects.toThrow(/report.svg/);
    await expect(tradeoffSvg(r, { highlight: 'studnt' })).rejects.toThrow(/no model labelled "studnt"/);
    // Two students measured alike: the second label moves down a line; p50 can replace the mean on x.
    await upsertResult(file, rec('student-2', 0.75, 5.1, 4.1));
    const spec = tradeoffSpec(readResults(file), { latencyStat: 'p50' }) as unknown as {
      data: { values: { label: string; labelY: number; accuracy: number }[] };
    };
    const rows = Object.fromEntries(spec.data.values.map((v) => [v.label, v]));
    expect(rows.student!.labelY).toBe(rows.student!.accuracy);
    expect(rows['student-2']!.labelY).toBeLessThan(rows['student-2']!.accuracy);
    expect(JSON.stringify(tradeoffSpec(r, { latencyStat: 'p50' }))).toContain('latency per query, p50 (ms)');
  });

  it('names the file when results.json is malformed', () => {
    expect(() => readResults('/nonexistent/results.json')).toThrow(/distillery bench/);
  });
});

describe('training curves', () => {
  const jsonl = [
    { type: 'trainBegin', totalSteps: 4 },
    { type: 'step', globalStep: 1, loss: 2, losses: { unweighted_kd_loss: 1.5, unweighted_hard_label_loss: 1 } },
    { type: 'step', globalStep: 2, loss: 1.5, losses: { unweighted_kd_loss: 1.1, unweighted_hard_label_loss: 0.8 } },
    { type: 'evaluate', globalStep: 2, accuracy: 0.55 },
    { type: 'step', globalStep: 4, loss: 1, losses: { unweighted_kd_loss: 0.7, unweighted_hard_label_loss: 0.5 } },
    { type: 'evaluate', globalStep: 4, accuracy: 0.7, validationAccuracy: 0.68 },
  ]
    .map((o) => JSON.stringify(o))
    .join('\n');

  it('labels weighted and unweighted terms and puts evaluation accuracy on a second axis', async () => {
    const pts = curvePoints(jsonl);
    const terms = new Set(pts.map((p) => p.term));
    expect(terms).toContain('total loss (weighted sum)');
    expect(terms).toContain('kd_loss (unweighted)');
    expect(terms).toContain('eval accuracy (%, right axis)');
    expect(
      pts.find((p) => p.axis === 'eval' && p.step === 4 && p.term.includes('validationAccuracy'))!.value,
    ).toBeCloseTo(68);
    const svg = (await trainingCurvesSvg(jsonl))!;
    expect(svg).toContain('evaluation accuracy (%)');
    expect(svg).toContain('hard_label_loss (unweighted)');
  });

  it('names file and line of a broken metrics line', () => {
    expect(() => curvePoints('{"type":"step"}\n{oops', 'run/metrics.jsonl')).toThrow(/run\/metrics.jsonl:2/);
  });
});
