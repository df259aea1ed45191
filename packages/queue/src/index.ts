/**
 * @distillery/queue — optional: search trials and sharded teacher precomputation on BullMQ
 * (Redis). Nothing else in Distillery imports this package statically; the CLI loads it only for
 * `--queue` and `distillery worker`.
 * @packageDocumentation
 */
export * from './connection.js';
export * from './handlers.js';
export * from './worker.js';
export * from './dispatch.js';
export * from './trials.js';
export * from './flow.js';
export * from './redis-server.js';
