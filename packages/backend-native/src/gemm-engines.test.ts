/**
 * The two engines of the native matrix products: oneDNN's sgemm for large products when `libdnnl.so.2` loads,
 * OpenBLAS otherwise (or with DISTILLERY_GEMM=openblas). Both give the same products, and oneDNN stays correct
 * while the process takes signals (oneDNN 2.6 corrupts the heap when a handler runs on one of its threads, so
 * the addon blocks signals around each call: without that, the child below aborts).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadAddon, type NativeAddon } from './addon.js';
import { runWithAddon } from './testing/child.js';
import { nativeReady } from './testing/compare.js';

const ready = nativeReady();
const child = fileURLToPath(new URL('./testing/gemm-under-signals.mjs', import.meta.url));

/** Runs the child for `ms`, sending it SIGUSR2 bursts every millisecond until it reports; then closes its stdin. */
function underSignals(ms: number, pool: string): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [child, String(ms)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, DISTILLERY_POOL: pool },
    });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('{')) {
        // Stop signalling, then let the child exit (it waits for stdin's end; signals already sent are pending
        // on it and handled before that).
        clearInterval(timer);
        c.stdin.end();
      } else if (!timer && out.includes('ready'))
        timer = setInterval(() => {
          for (let i = 0; i < 20; i++) c.kill('SIGUSR2');
        }, 1);
    });
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal, out });
    });
  });
}

describe.skipIf(!ready)('native gemm engines', () => {
  it.each(['omp', 'own'])(
    'large products and parallel kernels stay exact under thousands of signals (%s pool)',
    async (pool) => {
      const r = await underSignals(1500, pool);
      expect(r.signal, r.out).toBeNull();
      expect(r.code, r.out).toBe(0);
      const report = JSON.parse(r.out.slice(r.out.indexOf('{'))) as {
        pool: string;
        calls: number;
        signals: number;
        mismatches: number;
      };
      expect(report.pool).toBe(pool);
      expect(report.mismatches).toBe(0);
      expect(report.calls).toBeGreaterThan(50);
      expect(report.signals).toBeGreaterThan(100);
    },
    30_000,
  );

  it('oneDNN and OpenBLAS give the same products (DISTILLERY_GEMM=openblas selects OpenBLAS)', () => {
    const addon = loadAddon() as NativeAddon;
    const [m, n, k] = [300, 200, 250];
    const script = `
      const [m, n, k] = [${m}, ${n}, ${k}];
      const heap = new ArrayBuffer(4 * (m * k + k * n + m * n)); const f = new Float32Array(heap);
      for (let i = 0; i < m * k + k * n; i++) f[i] = Math.sin(i);
      const idx = Int32Array.from([0]);
      a.gemm(heap, 0, 4 * m * k, 4 * (m * k + k * n), 1, m, n, k, false, true, idx, idx, -1, 0, 0, 0);
      process.stdout.write(JSON.stringify({ cfg: a.blasConfig(), c: Array.from(f.subarray(m * k + k * n)) }));`;
    const run = (env: NodeJS.ProcessEnv) => runWithAddon<{ cfg: string; c: number[] }>(script, env);
    const blas = run({ ...process.env, DISTILLERY_GEMM: 'openblas' });
    expect(blas.cfg).not.toMatch(/oneDNN/);
    const auto = run({ ...process.env, DISTILLERY_GEMM: '' });
    expect(auto.cfg).toBe(addon.blasConfig());
    let worst = 0;
    for (let i = 0; i < blas.c.length; i++) worst = Math.max(worst, Math.abs(blas.c[i]! - auto.c[i]!));
    expect(worst).toBeLessThan(1e-4);
  }, 30_000);
});
