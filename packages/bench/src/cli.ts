/**
 * Command line of the distillation-step benchmark (flags of `shared/bench/torch_distill_bench.py`, plus
 * `--backend`, `--overhead`, `--soak N`, `--profile`).
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';
import { DistilleryError } from '@distillery/core';
import { BENCH_MODES, createBenchContext, runBench, setupBackend, type BenchMode, type BenchResult } from './bench.js';
import { defaultConfigPath, loadBenchConfig } from './config.js';
import { runFloor, type FloorResult } from './floor.js';
import {
  runOverhead,
  runProfile,
  runSoak,
  type OverheadResult,
  type ProfileResult,
  type SoakResult,
} from './extras.js';

export const USAGE = `usage: distill-bench [--config PATH] [--mode train|train-cached|teacher-infer|student-infer] [--backend native|wasm|cpu]
                     [--steps N] [--warmup N] [--threads N] [--driver distiller|bare]
                     [--overhead [--rounds N]] [--soak N] [--profile] [--floor [--reps N]]

Times one knowledge-distillation step (shared/bench/README.md) with Distillery's parts and prints one JSON
line with the fields of torch_distill_bench.py.

  --config PATH   bench config (default: shared/bench/bench-standard.json)
  --mode M        train (default) | train-cached (teacher outputs from a warm in-memory teacher cache; the
                  first warm-up step fills it) | teacher-infer | student-infer
  --backend B     native | wasm | cpu (default: DISTILLERY_BACKEND, else the fastest available)
  --steps N       timed steps (default 10)
  --warmup N      untimed steps before them (default 2)
  --threads N     BLAS threads of the native backend (DISTILLERY_BLAS_THREADS; default: all cores)
  --driver D      train mode: distiller (GeneralDistiller, default) or bare (hand-written tfjs loop)
  --overhead      GeneralDistiller vs the bare loop, alternating --rounds times (default 2): medians and overhead %
  --soak N        N distiller steps; tensor count and RSS after step 1, N/2 and N
  --profile       add a per-kernel profile of warm steps (train: of the --driver) to the JSON line; table on stderr
  --floor         every matrix product of one train step timed alone (--reps N calls each, default 10, fastest),
                  their sum (the step's floor at the rate each product reaches alone) next to the measured train
                  step (--steps/--warmup); JSON line, table on stderr
`;

/** What one invocation produced (printed as one JSON line). */
export type CliOutput = (BenchResult & { profile?: ProfileResult }) | OverheadResult | SoakResult | FloorResult;

function intFlag(v: string | undefined, name: string, def: number, min: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new DistilleryError('INVALID_INPUT', `--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}

function printProfile(p: ProfileResult): void {
  const w = process.stderr;
  w.write(
    `\nper-kernel profile (${p.mode}, ${p.driver}): step wall ${p.step_wall_ms} ms, kernels ${p.kernel_ms} ms (${p.kernel_calls} calls), outside kernels ${p.overhead_ms} ms, peak tensor bytes ${p.peak_tensor_bytes}\n`,
  );
  w.write(`${'kernel'.padEnd(28)} ${'ms'.padStart(9)} ${'calls'.padStart(6)} ${'%'.padStart(6)}\n`);
  for (const k of p.kernels.slice(0, 30))
    w.write(
      `${k.kernel.padEnd(28)} ${k.ms.toFixed(2).padStart(9)} ${String(Math.round(k.calls)).padStart(6)} ${k.pct.toFixed(1).padStart(6)}\n`,
    );
  w.write('\nslowest kernel × input shapes:\n');
  for (const s of p.top_shapes.slice(0, 15))
    w.write(`${s.ms.toFixed(2).padStart(9)} ms ${String(Math.round(s.calls)).padStart(4)}×  ${s.kernel} ${s.shapes}\n`);
}

function printFloor(f: FloorResult): void {
  const w = process.stderr;
  w.write(`\nmatrix products of one train step, each alone (${f.backend_detail}, fastest of ${f.reps}):\n`);
  w.write(
    `${'part'.padEnd(17)} ${'product'.padEnd(36)} ${'shape'.padEnd(26)} ${'×'.padStart(3)} ${'ms each'.padStart(8)} ${'ms/step'.padStart(8)} ${'GFLOP/s'.padStart(8)}\n`,
  );
  for (const p of f.products) {
    const shape = `${p.batch > 1 ? `${p.batch}× ` : ''}${p.m}×${p.k}${p.transposeA ? 'ᵀ' : ''}·${p.k}×${p.n}${p.transposeB ? 'ᵀ' : ''}`;
    w.write(
      `${p.part.padEnd(17)} ${p.what.padEnd(36)} ${shape.padEnd(26)} ${String(p.count).padStart(3)} ${p.ms_each.toFixed(2).padStart(8)} ${p.ms_per_step.toFixed(2).padStart(8)} ${p.gflops.toFixed(1).padStart(8)}\n`,
    );
  }
  w.write(
    `\n${f.gflop.total} GFLOP per step; products alone ${f.products_floor_ms} ms (${f.products_gflops} GFLOP/s); measured step ${f.step_ms} ms (median; fastest ${f.step_min_ms}); the rest ${f.rest_ms} ms\n`,
  );
}

/** Run the benchmark for `argv` (without node and script); returns what it printed. */
export async function main(
  argv: readonly string[],
  print: (line: string) => void = (l) => process.stdout.write(l + '\n'),
): Promise<CliOutput | undefined> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string' },
      mode: { type: 'string', default: 'train' },
      backend: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      threads: { type: 'string' },
      driver: { type: 'string', default: 'distiller' },
      overhead: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      soak: { type: 'string' },
      profile: { type: 'boolean', default: false },
      floor: { type: 'boolean', default: false },
      reps: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    print(USAGE);
    return undefined;
  }
  const mode = values.mode as BenchMode;
  if (!BENCH_MODES.includes(mode))
    throw new DistilleryError('INVALID_INPUT', `--mode must be one of ${BENCH_MODES.join(', ')}, got "${values.mode}"`);
  if (values.driver !== 'distiller' && values.driver !== 'bare')
    throw new DistilleryError('INVALID_INPUT', `--driver must be distiller or bare, got "${values.driver}"`);
  const steps = intFlag(values.steps, 'steps', 10, 1);
  const warmup = intFlag(values.warmup, 'warmup', 2, 0);
  const threads = values.threads === undefined ? undefined : intFlag(values.threads, 'threads', 1, 1);
  if (mode === 'train-cached' && (values.driver === 'bare' || warmup < 1))
    throw new DistilleryError(
      'INVALID_INPUT',
      `--mode train-cached needs the distiller driver and --warmup ≥ 1 (the first step fills the cache), got --driver ${values.driver} --warmup ${warmup}`,
    );
  const configPath = values.config ?? defaultConfigPath();
  if (!configPath) {
    throw new DistilleryError(
      'CONFIG_INVALID',
      'no --config given and shared/bench/bench-standard.json was not found',
      { hint: 'pass --config PATH or set DISTILLERY_SHARED' },
    );
  }
  const cfg = loadBenchConfig(configPath);
  const backend = await setupBackend(values.backend, threads);
  const ctx = await createBenchContext(cfg, backend);
  let out: CliOutput;
  try {
    if (values.floor) {
      const f = await runFloor(ctx, { reps: intFlag(values.reps, 'reps', 10, 1), warmup, steps });
      printFloor(f);
      out = f;
    } else if (values.soak !== undefined) {
      out = await runSoak(ctx, intFlag(values.soak, 'soak', 500, 2));
    } else if (values.overhead) {
      out = await runOverhead(ctx, warmup, steps, intFlag(values.rounds, 'rounds', 2, 1));
    } else {
      const r: BenchResult & { profile?: ProfileResult } = await runBench(ctx, {
        mode,
        warmup,
        steps,
        driver: values.driver,
      });
      if (values.profile) {
        r.profile = await runProfile(ctx, mode, values.driver);
        printProfile(r.profile);
      }
      out = r;
    }
  } finally {
    ctx.dispose();
  }
  print(JSON.stringify(out));
  return out;
}
