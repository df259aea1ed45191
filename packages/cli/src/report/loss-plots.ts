/**
 * `loss.svg` beside each run's metrics.jsonl (the student run and the teacher sub-run): loss terms
 * per optimizer step and evaluation accuracy on a second axis, rendered by @distillery/report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@distillery/core';
import { trainingCurvesSvg } from '@distillery/report';

/** Write `loss.svg` in `outDir` and `outDir/teacher` where a metrics.jsonl with step lines exists. */
export async function writeLossPlots(outDir: string): Promise<string[]> {
  const written: string[] = [];
  for (const [dir, title] of [
    [outDir, 'distillation loss per optimizer step'],
    [join(outDir, 'teacher'), 'teacher training loss per optimizer step'],
  ] as const) {
    const file = join(dir, 'metrics.jsonl');
    if (!existsSync(file)) continue;
    const svg = await trainingCurvesSvg(readFileSync(file, 'utf8'), { title, where: file });
    if (!svg) continue;
    await writeFileAtomic(join(dir, 'loss.svg'), svg);
    written.push(join(dir, 'loss.svg'));
  }
  return written;
}
