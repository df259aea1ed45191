/**
 * Gradient registration. tfjs-core's Node bundle (`tf-core.node.js`) registers no gradients; they live in
 * `dist/register_all_gradients.js`, an ES module with extensionless imports that plain Node cannot load. Under
 * a bundler or vitest the import just works; in plain Node {@link registerAllGradients} first installs the
 * small module hooks of `gradients-hooks.ts`.
 */
import { getGradient } from '@tensorflow/tfjs-core';
import { register } from 'node:module';

let pending: Promise<void> | undefined;

/** True when tfjs has gradients registered (checked on a few common kernels). */
export function gradientsRegistered(): boolean {
  return ['Add', 'MatMul', 'BatchMatMul', 'Sum'].some((k) => getGradient(k) != null);
}

/**
 * Make every tfjs-core gradient available (`tf.grad`, `tf.variableGrads`, optimizers). Idempotent and cheap
 * when already done; resolves once the gradients are registered.
 */
export function registerAllGradients(): Promise<void> {
  if (gradientsRegistered()) return Promise.resolve();
  pending ??= (async () => {
    try {
      await import('@tensorflow/tfjs-core/dist/register_all_gradients.js' as string);
    } catch {
      // Plain Node: teach the loader tfjs-core's ESM layout, then retry.
      const hooks = new URL(`./gradients-hooks${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
      register(hooks.href);
      await import('@tensorflow/tfjs-core/dist/register_all_gradients.js' as string);
    }
    if (!gradientsRegistered()) throw new Error('tfjs gradients could not be registered');
  })();
  return pending;
}
