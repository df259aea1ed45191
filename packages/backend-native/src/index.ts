/**
 * @distillery/backend-native — a tfjs backend ('native') built on tfjs-backend-wasm that runs matmuls through
 * OpenBLAS and the hot elementwise/reduction kernels as native code, in place on the wasm heap.
 *
 * ```ts
 * import { registerNativeBackend } from '@distillery/backend-native';
 * if (registerNativeBackend()) await tf.setBackend('native');
 * ```
 * @packageDocumentation
 */
export {
  NATIVE_BACKEND,
  NATIVE_PRIORITY,
  configureWasmPaths,
  describeNative,
  nativeAvailable,
  nativeKernelConfigs,
  nativeUnavailableReason,
  registerNativeBackend,
} from './backend.js';
export { addonPath, blasThreads, fusedThreads, loadAddon, addonLoadError, type NativeAddon } from './addon.js';
export { FUSED_KERNELS, type AdamAttrs } from './kernels/fused.js';
