/** Helpers to compare the 'native' backend with the reference 'cpu' backend (used by the tests and the bench). */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { nativeAvailable, registerNativeBackend, nativeUnavailableReason } from '../backend.js';

/** Whether `CI` is set to true (`CI=true` or `CI=1`), as CI services do. */
export function isCI(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/**
 * Whether native tests can run; outside CI, logs once why they are skipped otherwise. Under
 * `CI=true` an addon that is missing or fails to load throws instead, so the test files that call
 * this fail rather than skip (68 tests could otherwise vanish unseen).
 */
export function nativeReady(): boolean {
  const ok = nativeAvailable() && registerNativeBackend();
  if (!ok) {
    const why = nativeUnavailableReason();
    if (isCI()) {
      throw new Error(
        `CI=true requires the native backend, but it is unavailable: ${why}. Install libopenblas-dev, then run \`npm run build:native -w @distillery/backend-native\``,
      );
    }
    console.warn(`[backend-native] skipping native tests: ${why}`);
  }
  return ok;
}

/** Run `fn` on `backend` and return the values of the tensors it returns (everything else is disposed). */
export async function runOn(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  await tf.ready();
  const outs = tf.tidy(fn);
  const list = Array.isArray(outs) ? outs : [outs];
  const values = list.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(list);
  return values;
}

/** Largest |a-b| / max(1, |b|) over all elements; equal values (infinities, NaN vs NaN) count as 0. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
    const d = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

/** Deterministic pseudo-random tensor in [-1, 1) (independent of the backend's RNG). */
export function rand(shape: number[], seed = 1): tf.Tensor {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((x, y) => x * y, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    v[i] = (s / 4294967296) * 2 - 1;
  }
  return tf.tensor(v, shape);
}
