/**
 * `@distillery/core/kernels`: the fused-kernel contracts (names, inputs, attributes, outputs)
 * shared by core, `@distillery/models` and `@distillery/backend-native`. A separate entry point so
 * the backend can import it without loading the rest of core.
 * @packageDocumentation
 */
export * from './kernels/names.js';
