/** Backend selection and kernel fixes for tfjs (re-exported by `@distillery/core`). */
export {
  BACKEND_PREFERENCE,
  activeBackend,
  initBackend,
  probeBackends,
  type BackendName,
  type BackendProbe,
  type InitBackendOptions,
} from './select.js';
export { registerSegmentSumKernels, segmentSumValues, unsortedSegmentSum } from './segment-sum.js';
export { registerAllGradients, gradientsRegistered } from './gradients.js';
export { registerReduceGradients, sumGradConfig, meanGradConfig } from './reduce-gradients.js';
export { configureWasmPaths } from './wasm-paths.js';
export { registerWasmMatMulKernels, planMatMul, WASM_MATMUL_MIN_WORK, type WasmMatMulOptions } from './wasm-matmul.js';
