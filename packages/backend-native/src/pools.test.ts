/**
 * The two pools of the addon's parallel kernels (native/threads.cc): libgomp's, shared with oneDNN's products,
 * and our own. `DISTILLERY_POOL` chooses (auto: OpenMP when oneDNN runs the large products). Whichever runs
 * them, the kernels must give the same bits: each element or row block is computed by the same arithmetic.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DistilleryError } from '@distillery/core';
import { loadAddon, requestedPool, type NativeAddon } from './addon.js';
import { runWithAddon } from './testing/child.js';
import { nativeReady } from './testing/compare.js';

const ready = nativeReady();

/** A child that runs split kernels (exp, add, a leading-axis sum, a product with bias) and prints their bits. */
const script = `
  const n = 1 << 19, rows = 2048, cols = 1024;
  const heap = new ArrayBuffer(4 * (5 * n + rows * cols + cols));
  const f = new Float32Array(heap);
  for (let i = 0; i < 2 * n; i++) f[i] = Math.sin(i * 0.37) * 2;
  const shape = Int32Array.from([n]), unit = Int32Array.from([1]);
  a.unary(heap, a.ops.unary.exp, 0, 8 * n, n);
  a.binary(heap, a.ops.binary.add, 0, 4 * n, 12 * n, shape, unit, unit);
  a.reduceSum(heap, 0, 16 * n, 1, rows, n / rows, 1);
  const idx = Int32Array.from([0]);
  a.gemm(heap, 0, 4 * n, 20 * n, 1, 256, 512, 256, false, true, idx, idx, 4 * n + 4096, 512, 0, 0);
  const out = new Uint32Array(heap, 8 * n, 3 * n);
  let h = 2166136261;
  for (let i = 0; i < out.length; i++) h = Math.imul(h ^ out[i], 16777619) >>> 0;
  process.stdout.write(JSON.stringify({ pool: a.poolKind(), cfg: a.blasConfig(), hash: h }));`;

const run = (env: NodeJS.ProcessEnv) => runWithAddon<{ pool: string; cfg: string; hash: number }>(script, env);

describe('DISTILLERY_POOL', () => {
  it('accepts auto, omp and own (any case) and names the variable and the choices otherwise', () => {
    const before = process.env.DISTILLERY_POOL;
    try {
      for (const [v, want] of [
        [undefined, 'auto'],
        ['', 'auto'],
        [' OMP ', 'omp'],
        ['own', 'own'],
      ] as const) {
        if (v === undefined) delete process.env.DISTILLERY_POOL;
        else process.env.DISTILLERY_POOL = v;
        expect(requestedPool()).toBe(want);
      }
      process.env.DISTILLERY_POOL = 'openmp';
      let err: unknown;
      try {
        requestedPool();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DistilleryError);
      expect(String(err)).toMatch(/unknown thread pool "openmp"/);
      expect(String(err)).toMatch(/DISTILLERY_POOL/);
      expect(String(err)).toMatch(/auto, omp, own/);
    } finally {
      if (before === undefined) delete process.env.DISTILLERY_POOL;
      else process.env.DISTILLERY_POOL = before;
    }
  });
});

describe.skipIf(!ready)('native thread pools', () => {
  it('an unknown DISTILLERY_POOL stops backend selection with the variable named (no silent fall-back to wasm)', () => {
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "const c = await import('@distillery/core'); await c.initBackend();"],
      { env: { ...process.env, DISTILLERY_POOL: 'openmp', DISTILLERY_BACKEND: '' }, encoding: 'utf8' },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/DISTILLERY_POOL: unknown thread pool "openmp"/);
    expect(r.stderr).toMatch(/use one of auto, omp, own/);
  }, 30_000);

  it('the OpenMP pool and our own give bit-identical kernels; auto follows the product engine', () => {
    const addon = loadAddon() as NativeAddon;
    const base = { ...process.env, DISTILLERY_POOL: '', DISTILLERY_FUSED_THREADS: '2', DISTILLERY_BLAS_THREADS: '2' };
    const omp = run({ ...base, DISTILLERY_POOL: 'omp' });
    const own = run({ ...base, DISTILLERY_POOL: 'own' });
    const one = run({ ...base, DISTILLERY_FUSED_THREADS: '1', DISTILLERY_BLAS_THREADS: '1' });
    expect([omp.pool, own.pool]).toEqual(['omp', 'own']);
    expect(omp.hash).toBe(own.hash);
    expect(one.hash).toBe(own.hash); // and the same bits as on one thread
    const auto = run(base);
    expect(auto.pool).toBe(/oneDNN/.test(addon.blasConfig()) ? 'omp' : 'own');
    expect(run({ ...base, DISTILLERY_GEMM: 'openblas' }).pool).toBe('own');
    expect(run({ ...base, DISTILLERY_POOL: ' Own ' }).pool).toBe('own'); // the addon gets the normalised value
  }, 60_000);
});
