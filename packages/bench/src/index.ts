/**
 * @distillery/bench — the distillation-step benchmark (PyTorch reference step in Distillery), framework
 * overhead, soak and PyTorch comparison.
 * @packageDocumentation
 */
export * from './config.js';
export * from './bench.js';
export * from './extras.js';
export { main as benchMain, USAGE, type CliOutput } from './cli.js';
export * from './performance/index.js';
export * from './floor.js';
