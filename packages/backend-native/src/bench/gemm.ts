/**
 * The matrix products of the distillation step, timed on the addon directly (no tfjs): GFLOP/s per shape and
 * thread count for the engine in use. Compare the engines with `DISTILLERY_GEMM=openblas`.
 *
 * Usage: `npm run bench:gemm -w @distillery/backend-native -- [--threads=1,2] [--reps=20] [--json]`
 */
import { loadAddon, addonLoadError } from '../addon.js';
import { benchArgs } from './args.js';

/** [M, K, N, transposeA, transposeB]: C[M, N] = op(A)·op(B). The bench-standard step's main products. */
export const GEMM_SHAPES: readonly (readonly [number, number, number, boolean, boolean])[] = [
  [2048, 384, 1536, false, true], // teacher FFN in (x·Wᵀ)
  [2048, 1536, 384, false, true], // teacher FFN out
  [2048, 384, 384, false, true], // teacher Q/K/V/attention output
  [2048, 256, 1024, false, true], // student FFN in
  [2048, 1024, 256, false, true], // student FFN out
  [2048, 256, 256, false, true], // student Q/K/V/attention output
  [256, 2048, 1024, true, false], // a weight gradient (dYᵀ·X)
  [2048, 1024, 256, false, false], // an input gradient (dY·W)
];

const args = benchArgs();

const addon = loadAddon();
if (!addon) throw new Error(`native addon unavailable: ${addonLoadError()}`);
const threadList = (args.get('threads') ?? '1,2').split(',').map(Number);
const reps = Number(args.get('reps') ?? 20);
const heap = new ArrayBuffer(256 * 2 ** 20);
const f = new Float32Array(heap);
for (let i = 0; i < f.length; i += 7) f[i] = ((i * 7919) % 13) / 13 - 0.5;
const rows: { threads: number; shape: string; ms: number; gflops: number }[] = [];
const [aOff, bOff, cOff] = [0, 64 * 2 ** 20, 128 * 2 ** 20];
const idx = Int32Array.from([0]);
for (const threads of threadList) {
  addon.setThreads(threads);
  for (const [m, k, n, tA, tB] of GEMM_SHAPES) {
    const run = () => addon.gemm(heap, aOff, bOff, cOff, 1, m, n, k, tA, tB, idx, idx, -1, 0, 0, 0);
    for (let i = 0; i < 3; i++) run();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) run();
    const ms = (performance.now() - t0) / reps;
    const shape = `${m}×${k}${tA ? 'ᵀ' : ''} · ${k}×${n}${tB ? ' (Wᵀ)' : ''}`;
    rows.push({ threads, shape, ms: Math.round(ms * 100) / 100, gflops: Math.round((2 * m * k * n) / ms / 1e5) / 10 });
  }
}
if (args.has('json')) console.log(JSON.stringify({ engine: addon.blasConfig(), rows }));
else {
  console.log(addon.blasConfig());
  for (const r of rows)
    console.log(`${r.threads} thread(s)  ${r.shape.padEnd(30)} ${String(r.ms).padStart(7)} ms  ${r.gflops} GFLOP/s`);
}
