#!/usr/bin/env node
/**
 * `node packages/bench/dist/compare.js [flags]`: run the PyTorch reference script and Distillery's bench,
 * one after the other (never at the same time: they would share the cores), per mode and repeat, and print
 * the per-mode medians and the ratio Distillery / PyTorch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sharedPath } from '@distillery/core';
import { BENCH_MODES, median, round2, torchModeOf, type BenchMode } from './bench.js';

const USAGE = `usage: compare [--modes train,train-cached,teacher-infer,student-infer] [--backend native|wasm|cpu] [--config PATH]
               [--steps N] [--warmup N] [--repeat N] [--torch-threads N] [--python PATH] [--script PATH] [--json]

Runs shared/bench/torch_distill_bench.py and Distillery's distill-bench alternately (PyTorch first) for each
mode, --repeat times (default 1), and prints median ms per mode and the ratio Distillery / PyTorch.
train-cached (our step with a warm teacher cache) is compared with PyTorch's full train step.
`;

interface RunLine {
  ms: { min: number; median: number };
  [k: string]: unknown;
}

/** GNU time, to read each child's peak RSS the same way for both frameworks (absent: no RSS column). */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const RSS_TAG = 'DISTILLERY_COMPARE_MAXRSS_KB=';

function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv): { line: RunLine; load: number; rssMB?: number } {
  const load = loadavg()[0]!;
  const [bin, argv] = GNU_TIME ? [GNU_TIME, ['-f', `${RSS_TAG}%M`, cmd, ...args]] : [cmd, args];
  const r = spawnSync(bin, argv, { encoding: 'utf8', env, maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  const last = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!last) throw new Error(`${cmd} ${args.join(' ')} printed no JSON line:\n${r.stdout}\n${r.stderr}`);
  const kb = new RegExp(`${RSS_TAG}(\\d+)`).exec(r.stderr ?? '');
  return {
    line: JSON.parse(last) as RunLine,
    load: round2(load),
    ...(kb ? { rssMB: round2(Number(kb[1]) / 1024) } : {}),
  };
}

export interface CompareRow {
  mode: BenchMode;
  torch_ms: number[];
  distillery_ms: number[];
  torch_median_ms: number;
  distillery_median_ms: number;
  ratio: number;
  /** Best step of all runs per side, and their ratio (least disturbed by other load on a shared machine). */
  torch_min_ms: number;
  distillery_min_ms: number;
  ratio_min: number;
  /** 1-minute load average before each run (the machine may be shared). */
  load: number[];
  /** Peak RSS (MB) of each run's whole process, by GNU time (`%M`); empty without /usr/bin/time. */
  torch_rss_mb: number[];
  distillery_rss_mb: number[];
}

// eslint-disable-next-line @typescript-eslint/require-await -- async so that argument errors thrown here reach main().catch as a rejection
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      modes: { type: 'string', default: BENCH_MODES.join(',') },
      backend: { type: 'string' },
      config: { type: 'string' },
      steps: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      repeat: { type: 'string', default: '1' },
      'torch-threads': { type: 'string', default: '1' },
      python: { type: 'string', default: '/usr/bin/python3' },
      script: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const modes = values.modes.split(',').map((m) => m.trim()) as BenchMode[];
  for (const m of modes)
    if (!BENCH_MODES.includes(m)) throw new Error(`unknown mode "${m}" (use ${BENCH_MODES.join(', ')})`);
  const script = values.script ?? sharedPath('bench', 'torch_distill_bench.py');
  if (!script)
    throw new Error('shared/bench/torch_distill_bench.py not found; pass --script PATH or set DISTILLERY_SHARED');
  const config = values.config ?? sharedPath('bench', 'bench-standard.json');
  if (!config) throw new Error('shared/bench/bench-standard.json not found; pass --config PATH');
  const repeat = Number(values.repeat);
  const common = ['--config', config, '--steps', values.steps, '--warmup', values.warmup];
  const ours = fileURLToPath(new URL('./distill-bench.js', import.meta.url));
  const rows: CompareRow[] = [];
  const lines: unknown[] = [];
  for (const mode of modes) {
    const row: CompareRow = {
      mode,
      torch_ms: [],
      distillery_ms: [],
      torch_median_ms: 0,
      distillery_median_ms: 0,
      ratio: 0,
      torch_min_ms: Infinity,
      distillery_min_ms: Infinity,
      ratio_min: 0,
      load: [],
      torch_rss_mb: [],
      distillery_rss_mb: [],
    };
    for (let r = 0; r < repeat; r++) {
      const t = runJson(
        values.python,
        // train-cached has no PyTorch twin (TextBrewer cannot cache features): it is compared with the full step.
        [script, ...common, '--mode', torchModeOf(mode), '--threads', values['torch-threads']],
        process.env,
      );
      const d = runJson(
        process.execPath,
        [ours, ...common, '--mode', mode, ...(values.backend ? ['--backend', values.backend] : [])],
        process.env,
      );
      row.torch_ms.push(t.line.ms.median);
      row.distillery_ms.push(d.line.ms.median);
      row.torch_min_ms = Math.min(row.torch_min_ms, t.line.ms.min);
      row.distillery_min_ms = Math.min(row.distillery_min_ms, d.line.ms.min);
      row.load.push(t.load, d.load);
      if (t.rssMB !== undefined) row.torch_rss_mb.push(t.rssMB);
      if (d.rssMB !== undefined) row.distillery_rss_mb.push(d.rssMB);
      lines.push(t.line, d.line);
      const rss = (x: { rssMB?: number }) => (x.rssMB === undefined ? '' : `, peak RSS ${x.rssMB} MB`);
      process.stderr.write(
        `${mode} #${r + 1}: pytorch ${t.line.ms.median} ms (load ${t.load}${rss(t)}), distillery ${d.line.ms.median} ms (load ${d.load}${rss(d)})\n`,
      );
    }
    row.torch_median_ms = round2(median(row.torch_ms));
    row.distillery_median_ms = round2(median(row.distillery_ms));
    row.ratio = round2(row.distillery_median_ms / row.torch_median_ms);
    row.ratio_min = round2(row.distillery_min_ms / row.torch_min_ms);
    rows.push(row);
  }
  if (values.json) {
    process.stdout.write(JSON.stringify({ rows, runs: lines }) + '\n');
    return;
  }
  const backend = lines.find((l) => (l as { framework?: string }).framework === 'distillery') as
    { backend?: string; backend_detail?: string } | undefined;
  process.stdout.write(
    `PyTorch vs Distillery (${backend?.backend ?? '?'}: ${backend?.backend_detail ?? ''}), ${values.warmup} warm-up + ${values.steps} timed steps, ${repeat} run(s) each\n\n`,
  );
  process.stdout.write(
    '| mode | PyTorch median ms | Distillery median ms | ratio | PyTorch min ms | Distillery min ms | ratio (min) | per-run medians (PyTorch / Distillery) | peak RSS MB, median (PyTorch / Distillery) | load |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |\n',
  );
  const med = (xs: number[]) => (xs.length ? String(round2(median(xs))) : '—');
  for (const r of rows) {
    process.stdout.write(
      `| ${r.mode} | ${r.torch_median_ms} | ${r.distillery_median_ms} | ${r.ratio}× | ${r.torch_min_ms} | ${r.distillery_min_ms} | ${r.ratio_min}× | ${r.torch_ms.join(', ')} / ${r.distillery_ms.join(', ')} | ${med(r.torch_rss_mb)} / ${med(r.distillery_rss_mb)} | ${Math.min(...r.load)}–${Math.max(...r.load)} |\n`,
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`compare: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
