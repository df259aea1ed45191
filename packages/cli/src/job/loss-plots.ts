/** `loss.svg` plots of a job's runs, from their metrics.jsonl. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@distillery/core';
import { lineChart, lossSeries } from '../report/svg-chart.js';

/** `loss.svg` in each run folder (student run and teacher sub-run) from its metrics.jsonl, written atomically. */
export async function writeLossPlots(outDir: string): Promise<void> {
  for (const [dir, title] of [[outDir, 'distillation loss per step'], [join(outDir, 'teacher'), 'teacher training loss per step']] as const) {
    const file = join(dir, 'metrics.jsonl');
    if (!existsSync(file)) continue;
    const series = lossSeries(readFileSync(file, 'utf8'));
    if (series[0]!.points.length) await writeFileAtomic(join(dir, 'loss.svg'), lineChart(series, { title, xLabel: 'optimizer step', yLabel: 'loss' }));
  }
}
