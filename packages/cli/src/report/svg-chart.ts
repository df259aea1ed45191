/**
 * A dependency-free SVG line chart for training curves (loss per optimizer step), written next to
 * metrics.jsonl so a run's progress reads at a glance in any browser or Markdown viewer.
 */
export interface Series {
  name: string;
  points: readonly [number, number][];
  color?: string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const step = 10 ** Math.floor(Math.log10(span / n));
  const mult = [1, 2, 5, 10].find((m) => span / (m * step) <= n) ?? 10;
  const s = mult * step;
  const out: number[] = [];
  for (let v = Math.ceil(lo / s) * s; v <= hi + 1e-12; v += s) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Render series as an SVG line chart (x: step, y: value). */
export function lineChart(series: readonly Series[], opts: { title: string; xLabel?: string; yLabel?: string; width?: number; height?: number }): string {
  const W = opts.width ?? 720;
  const H = opts.height ?? 360;
  const m = { l: 64, r: 150, t: 36, b: 44 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  const [y0, y1] = [Math.min(...ys, 0), Math.max(...ys, 1e-9)];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.r / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`,
  ];
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
  }
  for (const t of niceTicks(x0, x1)) parts.push(`<text x="${sx(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`, `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`);
  if (opts.xLabel) parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) parts.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const d = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    parts.push(`<rect x="${W - m.r + 12}" y="${m.t + i * 18}" width="12" height="3" fill="${color}"/>`, `<text x="${W - m.r + 30}" y="${m.t + i * 18 + 5}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Loss series from a metrics.jsonl text: the total and each unweighted term per optimizer step. */
export function lossSeries(metricsJsonl: string, prefix = ''): Series[] {
  const steps = metricsJsonl
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; globalStep: number; loss: number; losses: Record<string, number> })
    .filter((r) => r.type === 'step');
  const names = new Set<string>(steps.flatMap((s) => Object.keys(s.losses)));
  const out: Series[] = [{ name: `${prefix}total`, points: steps.map((s) => [s.globalStep, s.loss]) }];
  for (const n of names) {
    if (n === 'loss') continue;
    out.push({ name: `${prefix}${n.replace(/^unweighted_/, '')}`, points: steps.filter((s) => n in s.losses).map((s) => [s.globalStep, s.losses[n]!]) });
  }
  return out;
}
