/**
 * `distillery report` in one call: results.json → report.svg (chart) or report.html (chart + table).
 */
import { extname } from 'node:path';
import { DistilleryError, writeFileAtomic } from '@distillery/core';
import { readResults } from './results.js';
import { tradeoffHtml, tradeoffSvg, type TradeoffOptions } from './tradeoff.js';

/** Options of {@link writeReport}. */
export interface WriteReportOptions extends TradeoffOptions {
  /** results.json written by `distillery bench`. */
  results: string;
  /** Output file: `.svg` (chart) or `.html` (chart + table). */
  out: string;
  /** Extra HTML appended to the page (e.g. the KD-gain table). */
  extraHtml?: string;
}

/** Write the report; returns the output path. */
export async function writeReport(o: WriteReportOptions): Promise<string> {
  const results = readResults(o.results);
  const ext = extname(o.out).toLowerCase();
  if (ext === '.svg') await writeFileAtomic(o.out, await tradeoffSvg(results, o));
  else if (ext === '.html' || ext === '.htm') await writeFileAtomic(o.out, await tradeoffHtml(results, o));
  else
    throw new DistilleryError('USAGE', `unsupported report type "${ext || '(none)'}"`, {
      where: '--out',
      hint: 'use report.svg (chart) or report.html (chart + table)',
    });
  return o.out;
}
