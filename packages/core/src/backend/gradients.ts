/**
 * Gradient registration. tfjs-core's Node bundle (`tf-core.node.js`) registers no gradients; they live in
 * `dist/register_all_gradients.js`, an ES module with extensionless imports that plain Node cannot load. Under
 * a bundler or vitest the import just works; in plain Node {@link registerAllGradients} first installs the
 * small module hooks of `gradients-hooks.ts`. The `Sum` and `Mean` gradients are then replaced by the ones of
 * `reduce-gradients.ts` (same values, no JavaScript array of the input's size per backward pass).
 */
import { getGradient } from '@tensorflow/tfjs-core';
import { register } from 'node:module';
import { registerReduceGradients } from './reduce-gradients.js';

let pending: Promise<void> | undefined;
let hooked = false;

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  register(new URL(`./gradients-hooks${ext}`, import.meta.url).href);
}

/** True when tfjs has gradients registered (checked on a few common kernels). */
export function gradientsRegistered(): boolean {
  return ['Add', 'MatMul', 'BatchMatMul', 'Sum'].some((k) => getGradient(k) != null);
}

/**
 * Make every tfjs-core gradient available (`tf.grad`, `tf.variableGrads`, optimizers), with Distillery's `Sum` and
 * `Mean` gradients in place of tfjs's. Idempotent and cheap when already done; resolves once the gradients are
 * registered.
 */
export function registerAllGradients(): Promise<void> {
  if (gradientsRegistered()) {
    registerReduceGradients();
    return Promise.resolve();
  }
  pending ??= (async () => {
    const spec = '@tensorflow/tfjs-core/dist/register_all_gradients.js';
    // Under vitest/vite the ESM sources load as they are; in plain Node the loader needs the hooks first
    // (a failed import would stay cached, so they are installed before the first attempt).
    if (!process.env.VITEST) installHooks();
    await import(spec);
    if (!gradientsRegistered()) throw new Error('tfjs gradients could not be registered');
    registerReduceGradients();
  })();
  return pending;
}
