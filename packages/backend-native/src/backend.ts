/**
 * The 'native' tfjs backend: a tfjs-backend-wasm instance whose hot kernels (matmuls, broadcasting elementwise
 * ops, reductions, softmax, copies) run as native code on the wasm heap through the OpenBLAS addon.
 */
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { findBackendFactory, getKernelsForBackend, registerBackend, registerKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { addonLoadError, loadAddon } from './addon.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { matMulKernels } from './kernels/matmul.js';
import { reduceKernels } from './kernels/reduce.js';
import { gatherKernels } from './kernels/gather.js';
import { fusedKernels } from './kernels/fused.js';
import { trainKernels } from './kernels/train.js';
import { attentionKernels } from './kernels/attention.js';
import { sliceKernels } from './kernels/slice.js';

/** Name under which the backend is registered with tfjs. */
export const NATIVE_BACKEND = 'native';
/** Priority for `tf.ready()` auto-selection: above wasm (2) and cpu (1). */
export const NATIVE_PRIORITY = 2.5;

let registered = false;
let wasmPathsSet = false;

/**
 * Point tfjs-backend-wasm at the directory of its own `.wasm` binaries, resolved from the installed package,
 * so loading works whichever entry point (CJS node bundle or ESM build) the runtime picked. Idempotent; a
 * failure (e.g. the wasm backend was already initialised) leaves tfjs's default lookup in place.
 */
export function configureWasmPaths(): void {
  if (wasmPathsSet) return;
  wasmPathsSet = true;
  try {
    const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    const dir = dirname(main);
    if (existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm'))) setWasmPaths(dir + '/');
  } catch {
    // keep tfjs's default (the bundle's own directory)
  }
}

/** The native kernels that replace stock wasm kernels on the 'native' backend (empty without the addon). */
export function nativeKernelConfigs(backendName = NATIVE_BACKEND): KernelConfig[] {
  const addon = loadAddon();
  if (!addon) return [];
  return [
    ...matMulKernels(addon, backendName, 'wasm'),
    ...elementwiseKernels(addon, backendName, 'wasm'),
    ...reduceKernels(addon, backendName, 'wasm'),
    ...gatherKernels(addon, backendName, 'wasm'),
    ...fusedKernels(addon, backendName),
    ...trainKernels(addon, backendName),
    ...attentionKernels(addon, backendName),
    ...sliceKernels(backendName, 'wasm'),
  ];
}

/** True when the addon is built and loads, i.e. the 'native' backend can be registered. */
export function nativeAvailable(): boolean {
  return loadAddon() !== null;
}

/** Why the native backend is unavailable ('' when it is available). */
export function nativeUnavailableReason(): string {
  return addonLoadError();
}

/**
 * One-line description of the native backend's matrix products, e.g. "oneDNN 2.6.3 + OpenBLAS 0.3.21, 2 threads, OpenMP
 * pool"
 * (oneDNN's sgemm runs the large products when `libdnnl.so.2` is on the machine, OpenBLAS the rest) or
 * "OpenBLAS 0.3.21, 2 threads, own pool" (the pool of the parallel kernels: see `DISTILLERY_POOL` in the README).
 */
export function describeNative(): string {
  const addon = loadAddon();
  if (!addon) return `unavailable: ${addonLoadError()}`;
  const config = addon.blasConfig();
  const version = /OpenBLAS\s+([\d.]+)/.exec(config);
  const dnnl = /oneDNN\s+([\d.]+)/.exec(config);
  const threads = addon.getThreads();
  const blas = `OpenBLAS${version ? ' ' + version[1] : ''}`;
  const pool = addon.poolKind() === 'omp' ? 'OpenMP pool' : 'own pool';
  return `${dnnl ? `oneDNN ${dnnl[1]} + ` : ''}${blas}, ${threads} thread${threads === 1 ? '' : 's'}, ${pool}`;
}

/**
 * Register the 'native' backend with tfjs: every wasm kernel is registered for 'native' too, with the native
 * overrides in place of the stock ones. Idempotent. Returns false (registering nothing) when the addon is
 * not available; see {@link nativeUnavailableReason}.
 */
export function registerNativeBackend(): boolean {
  if (registered) return true;
  if (!nativeAvailable()) return false;
  configureWasmPaths();
  const overrides = nativeKernelConfigs(NATIVE_BACKEND);
  const overridden = new Set(overrides.map((k) => k.kernelName));
  for (const k of getKernelsForBackend('wasm')) {
    if (!overridden.has(k.kernelName)) registerKernel({ ...k, backendName: NATIVE_BACKEND });
  }
  for (const k of overrides) registerKernel(k);
  registerBackend(
    NATIVE_BACKEND,
    async () => {
      const wasmFactory = findBackendFactory('wasm');
      if (!wasmFactory) throw new Error('tfjs-backend-wasm is not registered');
      return wasmFactory();
    },
    NATIVE_PRIORITY,
  );
  registered = true;
  return true;
}
