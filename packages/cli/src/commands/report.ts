/**
 * `distillery report <results.json> --out report.svg|report.html [--highlight label] [--summary summary.json]`:
 * the latency × accuracy × size chart (and table, HTML) of every model measured by `distillery bench`.
 * @packageDocumentation
 */
import { existsSync, readFileSync } from 'node:fs';
import { DistilleryError } from '@distillery/core';
import { escapeHtml, writeReport } from '@distillery/report';
import { formatGain, type KdGain } from '../job/baseline.js';
import { Option, type Command } from 'commander';
import { action, commonOptions, type CliContext, type CommonOptions } from './common.js';

/** Options of {@link reportCommand}. */
export interface ReportCommandOptions {
  results: string;
  out: string;
  /** Label to highlight. @default the model measured last */
  highlight?: string;
  /** Speed-up reference label. @default "teacher" when present */
  reference?: string;
  /** Latency statistic on the chart's x axis. @default "mean" */
  latency?: string;
  /** summary.json files of `distill --baseline` runs: their KD gain goes under the table (HTML). */
  summaries?: string[];
}

/** KD-gain section (HTML) from summary.json files that hold a `baseline` block. */
export function gainHtml(summaries: readonly string[]): string {
  const rows: string[] = [];
  for (const file of summaries) {
    if (!existsSync(file))
      throw new DistilleryError('FILE_NOT_FOUND', 'summary not found', {
        where: file,
        hint: 'written by `distillery distill <config> --baseline` in training.outputDir',
      });
    const s = JSON.parse(readFileSync(file, 'utf8')) as { baseline?: KdGain };
    if (!s.baseline)
      throw new DistilleryError('SUMMARY_NO_BASELINE', 'this summary has no baseline block', {
        where: file,
        hint: 'run `distillery distill <config> --baseline` to measure the KD gain',
      });
    rows.push(`<tr><td>${escapeHtml(file)}</td><td>${escapeHtml(formatGain(s.baseline))}</td></tr>`);
  }
  return rows.length
    ? `<h2>Did distillation help?</h2>\n<table><tr><th>run</th><th>KD gain (distilled − no-KD student, same init, data order and budget)</th></tr>\n${rows.join('\n')}\n</table>`
    : '';
}

/** Write the report; returns the output path. */
export async function reportCommand(o: ReportCommandOptions): Promise<string> {
  const stat = o.latency ?? 'mean';
  if (stat !== 'mean' && stat !== 'p50' && stat !== 'p95')
    throw new DistilleryError('USAGE', `unknown latency statistic "${stat}"`, {
      where: '--latency',
      hint: 'mean, p50 or p95',
    });
  return writeReport({
    results: o.results,
    out: o.out,
    highlight: o.highlight,
    reference: o.reference,
    latencyStat: stat,
    extraHtml: gainHtml(o.summaries ?? []),
  });
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('report')
    .description('chart (latency × accuracy, marker area ∝ size) and table of every model in results.json')
    .argument('<results>', 'results.json written by distillery bench');
  commonOptions(cmd)
    .requiredOption('--out <file>', 'report.svg (chart) or report.html (chart and table)')
    .option('--highlight <label>', 'model to highlight (default: the one measured last)')
    .option('--reference <label>', 'speed-up reference (default: "teacher" when present)')
    .addOption(
      new Option('--latency <stat>', 'latency statistic on the x axis').choices(['mean', 'p50', 'p95']).default('mean'),
    )
    .addOption(
      new Option(
        '--summary <file>',
        'summary.json of a distill --baseline run: its KD gain goes under the table (repeatable)',
      ).argParser(collect),
    )
    .action(
      action(
        ctx,
        async (
          results: string,
          o: CommonOptions & {
            out: string;
            highlight?: string;
            reference?: string;
            latency: string;
            summary?: string[];
          },
        ) => {
          ctx.out.write(
            `wrote ${await reportCommand({ results, out: o.out, highlight: o.highlight, reference: o.reference, latency: o.latency, summaries: o.summary })}\n`,
          );
          return 0;
        },
      ),
    );
}
