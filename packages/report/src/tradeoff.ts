/**
 * The compression-workflow chart: latency per query (x) against accuracy (y), marker area
 * proportional to model size, the current model highlighted; and the table under it (HTML).
 */
import type { TopLevelSpec } from 'vega-lite';
import { escapeHtml, renderSvg } from './render.js';
import type { BenchRecord, ResultsFile } from './results.js';
import { DistilleryError } from '@distillery/core';

/** Options of the trade-off report. */
export interface TradeoffOptions {
  /** Label to highlight. @default results.current (the model measured last) */
  highlight?: string;
  /** Label the speed-up column compares against. @default "teacher" when present, else the slowest model */
  reference?: string;
  /** Chart title. @default "Accuracy vs latency (marker area ∝ size on disk)" */
  title?: string;
  /** Plot width in pixels. @default 560 */
  width?: number;
  /** Plot height in pixels. @default 360 */
  height?: number;
  /** Latency statistic on the x axis (p50 resists a noisy machine better). @default "mean" */
  latencyStat?: 'mean' | 'p50' | 'p95';
}

interface Row {
  label: string;
  latency: number;
  accuracy: number;
  /** Where the label's text sits (data units): staggered when points crowd each other. */
  labelY: number;
  sizeMB: number;
  role: 'current' | 'other';
}

function records(results: ResultsFile): BenchRecord[] {
  const recs = Object.entries(results.results).map(([label, r]) => ({ ...r, label }));
  if (!recs.length)
    throw new DistilleryError('RESULTS_EMPTY', 'the results file has no models', {
      hint: 'add models with `distillery bench --results results.json --label <name>`',
    });
  return recs;
}

function highlightOf(results: ResultsFile, opts: TradeoffOptions): string | undefined {
  const h = opts.highlight ?? results.current;
  if (h !== undefined && !(h in results.results)) {
    throw new DistilleryError('UNKNOWN_LABEL', `no model labelled "${h}" in the results`, {
      where: '--highlight',
      hint: `labels: ${Object.keys(results.results).join(', ')}`,
    });
  }
  return h;
}

/**
 * Move labels of points that crowd an earlier point (within 8 % of the x span and 5 % of the y span)
 * down by one line each, so same-size students measured alike stay readable.
 */
function staggerLabels(rows: Row[], logX: boolean): void {
  const fx = (v: number) => (logX ? Math.log(v) : v);
  const xs = rows.map((r) => fx(r.latency));
  const ys = rows.map((r) => r.accuracy);
  const spanX = Math.max(...xs) - Math.min(...xs) || 1;
  const spanY = Math.max(...ys) - Math.min(...ys) || 1;
  rows.forEach((r, i) => {
    const crowd = rows
      .slice(0, i)
      .filter(
        (o) =>
          Math.abs(fx(o.latency) - fx(r.latency)) < 0.08 * spanX && Math.abs(o.accuracy - r.accuracy) < 0.05 * spanY,
      ).length;
    r.labelY = r.accuracy - crowd * 0.045 * spanY;
  });
}

/** The vega-lite spec of the latency × accuracy × size chart. */
export function tradeoffSpec(results: ResultsFile, opts: TradeoffOptions = {}): TopLevelSpec {
  const recs = records(results);
  const current = highlightOf(results, opts);
  const stat = opts.latencyStat ?? 'mean';
  const rows: Row[] = recs.map((r) => ({
    label: r.label,
    latency: r.latencyMs[stat],
    accuracy: 100 * r.accuracy,
    labelY: 100 * r.accuracy,
    sizeMB: r.sizeMB,
    role: r.label === current ? 'current' : 'other',
  }));
  const lat = rows.map((r) => r.latency);
  // Latencies spanning an order of magnitude read better on a log axis (teacher vs int8 student).
  const logX = Math.max(...lat) / Math.max(1e-9, Math.min(...lat)) > 8;
  staggerLabels(rows, logX);
  const maxSize = Math.max(...rows.map((r) => r.sizeMB));
  const x = {
    field: 'latency',
    type: 'quantitative',
    title: `latency per query, ${stat === 'mean' ? 'mean' : stat} (ms)`,
    scale: logX ? { type: 'log', nice: false, padding: 60 } : { zero: false, nice: true, padding: 60 },
  } as const;
  const y = {
    field: 'accuracy',
    type: 'quantitative',
    title: 'accuracy (%)',
    scale: { zero: false, nice: true, padding: 24 },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title ?? 'Accuracy vs latency (marker area ∝ size on disk)', anchor: 'start' },
    width: opts.width ?? 560,
    height: opts.height ?? 360,
    autosize: { type: 'pad' },
    padding: 12,
    background: 'white',
    data: { values: rows },
    layer: [
      {
        mark: { type: 'circle', opacity: 0.75, stroke: '#333', strokeWidth: 1 },
        encoding: {
          x,
          y,
          // Area ∝ size: a linear size scale from zero (vega-lite's size channel is an area).
          size: {
            field: 'sizeMB',
            type: 'quantitative',
            title: 'size (MB)',
            scale: { type: 'linear', zero: true, domain: [0, maxSize], range: [0, 2400] },
            legend: { orient: 'right', symbolFillColor: '#bbb' },
          },
          color: {
            field: 'role',
            type: 'nominal',
            title: null,
            scale: { domain: ['current', 'other'], range: ['#d62728', '#4c78a8'] },
            legend: { orient: 'right', labelExpr: "datum.label == 'current' ? 'current model' : 'other models'" },
          },
          order: { field: 'role', sort: 'descending' },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 12, dy: -8, fontSize: 12 },
        encoding: {
          x,
          y: { ...y, field: 'labelY' },
          text: { field: 'label' },
          color: { condition: { test: "datum.role == 'current'", value: '#d62728' }, value: '#222' },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Render the trade-off chart as SVG. */
export async function tradeoffSvg(results: ResultsFile, opts: TradeoffOptions = {}): Promise<string> {
  return renderSvg(tradeoffSpec(results, opts));
}

const pct = (v: number | undefined) => (v === undefined ? '—' : (100 * v).toFixed(2));

function referenceOf(recs: BenchRecord[], opts: TradeoffOptions): BenchRecord {
  const byLabel = new Map(recs.map((r) => [r.label, r]));
  if (opts.reference) {
    const r = byLabel.get(opts.reference);
    if (!r)
      throw new DistilleryError('UNKNOWN_LABEL', `no model labelled "${opts.reference}" in the results`, {
        where: '--reference',
        hint: `labels: ${[...byLabel.keys()].join(', ')}`,
      });
    return r;
  }
  return byLabel.get('teacher') ?? recs.reduce((a, b) => (b.latencyMs.mean > a.latencyMs.mean ? b : a));
}

/** Table rows (as plain cells) of the report: one per model, sorted by latency. */
export function tradeoffTable(
  results: ResultsFile,
  opts: TradeoffOptions = {},
): { header: string[]; rows: string[][]; reference: string } {
  const recs = records(results).sort((a, b) => a.latencyMs.mean - b.latencyMs.mean);
  const ref = referenceOf(recs, opts);
  const header = [
    'model',
    'accuracy %',
    'in-scope %',
    'oos recall %',
    'size MB',
    'latency ms (mean ± std)',
    'p50 ms',
    'p95 ms',
    `speed-up vs ${ref.label}`,
    'texts/s (batch)',
    'runtime',
    'note',
  ];
  const rows = recs.map((r) => [
    r.label,
    pct(r.accuracy),
    pct(r.inScopeAccuracy),
    pct(r.oosRecall),
    r.sizeMB.toFixed(1),
    `${r.latencyMs.mean.toFixed(2)} ± ${r.latencyMs.std.toFixed(2)}`,
    r.latencyMs.p50.toFixed(2),
    r.latencyMs.p95.toFixed(2),
    `${(ref.latencyMs.mean / r.latencyMs.mean).toFixed(2)}×`,
    r.throughput ? `${r.throughput.textsPerSecond.toFixed(0)} (${r.throughput.batchSize})` : '—',
    `${r.runtime}${r.backend ? ` / ${r.backend}` : ''}`,
    r.note ?? '',
  ]);
  return { header, rows, reference: ref.label };
}

/** Plain-text (Markdown) table of the results. */
export function tradeoffMarkdown(results: ResultsFile, opts: TradeoffOptions = {}): string {
  const t = tradeoffTable(results, opts);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(t.header), line(t.header.map(() => '---')), ...t.rows.map(line)].join('\n');
}

/** A self-contained HTML page: the chart (inline SVG) and the table. */
export async function tradeoffHtml(
  results: ResultsFile,
  opts: TradeoffOptions & { extraHtml?: string } = {},
): Promise<string> {
  const svg = await tradeoffSvg(results, opts);
  const t = tradeoffTable(results, opts);
  const current = highlightOf(results, opts);
  const tr = (cells: string[], tag: 'th' | 'td', cls = '') =>
    `<tr${cls}>${cells.map((c, i) => `<${tag}${i > 0 && i < 10 ? ' class="num"' : ''}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Distillery report</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin-top:16px;font-size:14px}
th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.current td{color:#d62728;font-weight:600}
</style></head><body>
<h1>Distillery report</h1>
${svg}
<table>
${tr(t.header, 'th')}
${t.rows.map((r) => tr(r, 'td', r[0] === current ? ' class="current"' : '')).join('\n')}
</table>
<p>Latency: one query at a time after warm-up; speed-up is relative to <b>${escapeHtml(t.reference)}</b>; size is the weights file on disk.</p>
${opts.extraHtml ?? ''}
</body></html>
`;
}
