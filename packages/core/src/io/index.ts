/**
 * File I/O helpers: safetensors read/write and atomic writes.
 * @packageDocumentation
 */
export * from './atomic.js';
export * from './safetensors.js';
export { f16ToF32, bf16ToF32, f32ToF16 } from './half.js';
