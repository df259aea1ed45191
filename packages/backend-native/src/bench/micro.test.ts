/**
 * The addon micro-benchmarks run end to end (`npm run bench:gemm` / `bench:kernels` after the build), in a
 * child process as users run them, with the smallest settings: one JSON line with a row per product / kernel.
 * Only that they run and report sane numbers is checked here; their speed is for the benchmarks themselves.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isCI, nativeReady } from '../testing/compare.js';

const dist = (name: string) => fileURLToPath(new URL(`../../dist/bench/${name}`, import.meta.url));
const built = existsSync(dist('kernels.js')) && existsSync(dist('gemm.js'));
if (!built && isCI()) throw new Error('CI=true: dist/bench is missing; the test command builds before testing');
if (!built) console.warn('[backend-native] skipping the micro-benchmark runs: dist/bench not built (npm run build)');

function runJson(script: string, args: string[]): unknown {
  const r = spawnSync(process.execPath, [dist(script), ...args, '--json'], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe.skipIf(!nativeReady() || !built)('addon micro-benchmarks', () => {
  it('bench:kernels reports 1- and 2-thread times for the four memory-bound kernel classes', () => {
    const out = runJson('kernels.js', ['--rounds=1']) as { rows: { kernel: string; ms1: number; ms2: number }[] };
    expect(out.rows.map((r) => r.kernel.split(' ')[0])).toEqual(['Add', 'Sum', 'Transpose', 'AdamW']);
    for (const r of out.rows) expect(r.ms1 > 0 && r.ms2 > 0).toBe(true);
  });

  it('bench:gemm reports GFLOP/s for the step products', () => {
    const out = runJson('gemm.js', ['--threads=1', '--reps=1']) as { engine: string; rows: { gflops: number }[] };
    expect(out.rows).toHaveLength(8);
    for (const r of out.rows) expect(r.gflops).toBeGreaterThan(0);
  });
});
