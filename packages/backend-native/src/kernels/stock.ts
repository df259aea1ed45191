/** Access to the stock kernels that native overrides fall back to. */
import { getKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';

/** The stock kernel `name` of `backendName`; throws when it is not registered. */
export function stockKernel(name: string, backendName: string): KernelConfig {
  const k = getKernel(name, backendName);
  if (!k) throw new Error(`kernel ${name} is not registered for backend '${backendName}'`);
  return k;
}

/**
 * A kernel config for `backendName` that runs `kernelFunc` and keeps the stock kernel's `setupFunc`, so that
 * falling back to the stock implementation works on this backend's own wasm instance.
 */
export function override(stock: KernelConfig, backendName: string, kernelFunc: KernelFunc): KernelConfig {
  return {
    kernelName: stock.kernelName,
    backendName,
    kernelFunc,
    ...(stock.setupFunc ? { setupFunc: stock.setupFunc } : {}),
    ...(stock.disposeFunc ? { disposeFunc: stock.disposeFunc } : {}),
  };
}
