/**
 * Micro-benchmark: BERT-step matmul/elementwise shapes and a BERT-ish training step (4 layers, hidden 256,
 * batch 32 × seq 64) on the cpu, wasm and native backends, plus a per-kernel profile of the step.
 *
 * Usage: `npm run bench -w @distillery/backend-native -- [--backends=cpu,wasm,native] [--steps=3]
 *   [--step-backends=wasm,native] [--batch=32] [--profile=native] [--json]`
 */
import * as tf from '@tensorflow/tfjs-core';
import { BENCH_CASES, timeIt } from './cases.js';
import { BERT_STEP, encoderBatch, encoderStep, initEncoder } from './encoder.js';
import { benchArgs } from './args.js';

const args = benchArgs();
const list = (k: string, d: string) => (args.get(k) ?? d).split(',').filter(Boolean);

async function use(backend: string, core: Core): Promise<void> {
  await core.initBackend({ backend, logger: { info: (m: string) => console.error(m) } });
}

function stepMs(steps: number, batch: number, profileOut?: Map<string, number>): Promise<number> {
  return (async () => {
    const p = initEncoder(BERT_STEP);
    const { ids, labels } = encoderBatch(BERT_STEP, batch);
    const once = () =>
      tf.tidy(() => {
        const s = encoderStep(BERT_STEP, p, ids, labels);
        s.loss.dataSync();
      });
    once();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) once();
    const ms = (performance.now() - t0) / steps;
    if (profileOut) {
      const info = await tf.profile(() => {
        once();
        return [] as tf.Tensor[];
      });
      for (const k of info.kernels) {
        profileOut.set(k.name, (profileOut.get(k.name) ?? 0) + (k.kernelTimeMs as number));
      }
    }
    tf.dispose([ids, labels, ...p.values()]);
    return ms;
  })();
}

type Core = { initBackend(o: object): Promise<string> };

/** `initBackend` from @distillery/core (falling back to core's built backend module inside the monorepo). */
async function loadCore(): Promise<Core> {
  const core = (await import('@distillery/core')) as Partial<Core>;
  if (typeof core.initBackend === 'function') return core as Core;
  const local = new URL('../../../core/dist/backend/index.js', import.meta.url).href;
  return (await import(local)) as Core;
}

async function main(): Promise<void> {
  const core = await loadCore();
  const backends = list('backends', 'cpu,wasm,native');
  const stepBackends = list('step-backends', 'wasm,native');
  const steps = Number(args.get('steps') ?? 3);
  const batch = Number(args.get('batch') ?? 32);
  const profileOn = args.get('profile') ?? 'native';
  const table: Record<string, Record<string, number>> = {};
  for (const backend of backends) {
    await use(backend, core);
    for (const c of BENCH_CASES) {
      const xs = c.inputs();
      (table[c.name] ??= {})[backend] = timeIt(() => tf.dispose(c.run(xs)));
      tf.dispose(xs);
    }
  }
  const step: Record<string, number> = {};
  const profile = new Map<string, number>();
  for (const backend of stepBackends) {
    await use(backend, core);
    step[backend] = await stepMs(steps, batch, backend === profileOn ? profile : undefined);
  }
  const fmt = (v: number | undefined) => (v === undefined ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(0));
  console.log(`| case (ms) | ${backends.join(' | ')} |\n|---|${backends.map(() => '---:').join('|')}|`);
  for (const [name, row] of Object.entries(table))
    console.log(`| ${name} | ${backends.map((b) => fmt(row[b])).join(' | ')} |`);
  console.log(`\nBERT-ish step (4 layers, hidden 256, batch ${batch} x seq 64, forward+backward), ms/step:`);
  for (const [b, ms] of Object.entries(step)) console.log(`  ${b}: ${fmt(ms)}`);
  if (profile.size) {
    const total = [...profile.values()].reduce((a, b) => a + b, 0);
    console.log(`\nprofile of one step on ${profileOn} (kernel ms, total ${fmt(total)}):`);
    for (const [k, ms] of [...profile].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
      console.log(`  ${k.padEnd(22)} ${fmt(ms).padStart(7)}  ${((100 * ms) / total).toFixed(1)}%`);
    }
  }
  if (args.has('json')) console.log(JSON.stringify({ table, step, profile: Object.fromEntries(profile) }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
