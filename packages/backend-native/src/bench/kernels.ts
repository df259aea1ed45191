/**
 * The memory-bound kernels of the distillation step (elementwise add, bias-gradient column sum, attention head
 * transpose, AdamW over the student's word embeddings), timed on the addon directly with 1 and with 2 fused
 * threads: the "1 vs 2 threads per kernel class" check behind their split (native/common.h,
 * kMinElementsPerThread). Rounds alternate the thread counts so both see the same machine.
 *
 * Usage: `npm run bench:kernels -w @distillery/backend-native -- [--rounds=15] [--json]`
 */
import { loadAddon, addonLoadError } from '../addon.js';
import { benchArgs } from './args.js';

const args = benchArgs();
const addon = loadAddon();
if (!addon) throw new Error(`native addon unavailable: ${addonLoadError()}`);
const rounds = Number(args.get('rounds') ?? 15);
const MB = 2 ** 20;
const heap = new ArrayBuffer(160 * MB);
const f = new Float32Array(heap);
// Regions (byte offsets): inputs at 0 / 32 MB / 64 MB, outputs at 96 / 128 MB; the third input (AdamW's m and v)
// is non-negative.
const [in0, in1, in2, out0, out1] = [0, 32 * MB, 64 * MB, 96 * MB, 128 * MB];
for (let i = 0; i < f.length; i += 5) f[i] = ((i * 7919) % 13) / 13 - (i >= in2 / 4 && i < out0 / 4 ? 0 : 0.5);
const i32 = (...v: number[]) => Int32Array.from(v);

const kernels: { name: string; run: () => void }[] = [
  {
    name: 'Add [2048, 256] + [2048, 256]',
    run: () => addon.binary(heap, addon.ops.binary.add, in0, in1, out0, i32(2048, 256), i32(256, 1), i32(256, 1)),
  },
  {
    name: 'Sum [2048, 1024] over rows (bias gradient)',
    run: () => addon.reduceSum(heap, in0, out0, 1, 2048, 1024, 1),
  },
  {
    name: 'Transpose [32, 64, 4, 64] → [32, 4, 64, 64]',
    run: () => addon.transpose(heap, in0, out0, i32(32, 4, 64, 64), i32(64 * 256, 64, 256, 1)),
  },
  {
    name: 'AdamW over 8192 × 256 parameters',
    run: () =>
      addon.adam(heap, in0, in1, in2, in2, out0, out1, out1, 8192 * 256, 0.9, 0.999, 1e-8, 0.1, 0.001, 0, 1, 1e-4, 1),
  },
];

const before = addon.getFusedThreads();
const times = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  for (const threads of [1, 2]) {
    addon.setFusedThreads(threads);
    for (const k of kernels) {
      k.run();
      const t0 = performance.now();
      for (let i = 0; i < 10; i++) k.run();
      const key = `${k.name}|${threads}`;
      times.set(key, [...(times.get(key) ?? []), (performance.now() - t0) / 10]);
    }
  }
}
addon.setFusedThreads(before);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows = kernels.map((k) => {
  const one = median(times.get(`${k.name}|1`)!);
  const two = median(times.get(`${k.name}|2`)!);
  return {
    kernel: k.name,
    ms1: Math.round(one * 1000) / 1000,
    ms2: Math.round(two * 1000) / 1000,
    speedup: Math.round((one / two) * 100) / 100,
  };
});
if (args.has('json')) console.log(JSON.stringify({ rounds, rows }));
else {
  console.log(`median ms per call over ${rounds} alternating rounds (10 calls each)`);
  for (const r of rows)
    console.log(
      `${r.kernel.padEnd(46)} 1 thread ${String(r.ms1).padStart(7)}  2 threads ${String(r.ms2).padStart(7)}  ×${r.speedup}`,
    );
}
