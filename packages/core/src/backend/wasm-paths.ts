/** Robust location of tfjs-backend-wasm's `.wasm` binaries in Node. */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let done = false;

/**
 * Point tfjs-backend-wasm at the `dist/` directory of the installed package (which holds the plain and SIMD
 * binaries), whichever entry point (CJS node bundle or ESM build) the runtime loaded. Idempotent; keeps
 * tfjs's default lookup when the directory cannot be resolved or wasm was already initialised.
 * In Node the non-threaded build is used (tfjs disables wasm threads there); SIMD when supported.
 */
export function configureWasmPaths(): void {
  if (done) return;
  done = true;
  try {
    const dir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    if (existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm'))) setWasmPaths(dir + '/');
  } catch {
    // default lookup
  }
}
