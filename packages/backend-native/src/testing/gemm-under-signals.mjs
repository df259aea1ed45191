/* global setImmediate */
// Child process of gemm-engines.test.ts: large products, each after a parallel kernel (an elementwise exp large
// enough to split), while the parent sends SIGUSR2 as fast as it can. The first parallel call comes before the
// first product, so with the OpenMP pool (native/threads.cc) the workers oneDNN uses are created by our kernel.
// Prints one JSON line {engine, pool, calls, signals, mismatches}; a corrupted heap aborts the process instead.
import { loadAddon } from '../../dist/addon.js';

const addon = loadAddon();
if (!addon) throw new Error('addon not built');
let signals = 0;
process.on('SIGUSR2', () => signals++);
const [m, n, k] = [512, 384, 384];
const e = 1 << 19; // exp over 2^19 floats: split across the threads (kMinElementsPerThread = 2^17)
const heap = new ArrayBuffer(4 * (m * k + k * n + 2 * m * n + 3 * e));
const f = new Float32Array(heap);
for (let i = 0; i < m * k + k * n; i++) f[i] = ((i * 7919) % 13) / 13 - 0.5;
const [aOff, bOff, cOff, refOff] = [0, 4 * m * k, 4 * (m * k + k * n), 4 * (m * k + k * n + m * n)];
const [xOff, yOff, yRefOff] = [refOff + 4 * m * n, refOff + 4 * (m * n + e), refOff + 4 * (m * n + 2 * e)];
const x = new Float32Array(heap, xOff, e);
for (let i = 0; i < e; i++) x[i] = Math.sin(i) * 3;
const exp = (out) => addon.unary(heap, addon.ops.unary.exp, xOff, out, e);
exp(yRefOff);
const y = new Float32Array(heap, yOff, e);
const yRef = new Float32Array(heap, yRefOff, e);
const idx = Int32Array.from([0]);
const gemm = (out) => addon.gemm(heap, aOff, bOff, out, 1, m, n, k, false, false, idx, idx, -1, 0, 0, 0);
gemm(refOff);
const ref = new Float32Array(heap, refOff, m * n);
const c = new Float32Array(heap, cOff, m * n);
process.stdout.write('ready\n');
let calls = 0;
let mismatches = 0;
const until = Date.now() + Number(process.argv[2] ?? 1500);
const loop = () => {
  // Bursts of products with a turn of the event loop between them, so the handler runs and counts.
  for (let i = 0; i < 20; i++) {
    exp(yOff);
    gemm(cOff);
    calls++;
    for (let j = 0; j < c.length; j += 97) if (c[j] !== ref[j]) mismatches++;
    for (let j = 0; j < e; j += 97) if (y[j] !== yRef[j]) mismatches++;
  }
  if (Date.now() < until) setImmediate(loop);
  else {
    console.log(JSON.stringify({ engine: addon.blasConfig(), pool: addon.poolKind(), calls, signals, mismatches }));
    // Exit only when the parent has stopped signalling and closed stdin: a SIGUSR2 that arrived while Node tears
    // down its handlers at exit would kill the process with the default action, which is not what is tested.
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();
  }
};
loop();
