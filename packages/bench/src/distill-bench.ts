#!/usr/bin/env node
/**
 * `npm run bench:distill -- [flags]`: one distillation step, timed (see `cli.ts` for the flags).
 */
import { DistilleryError } from '@distillery/core';
import { main } from './cli.js';

try {
  await main(process.argv.slice(2));
} catch (e) {
  const err = e as Error;
  process.stderr.write(`distill-bench: ${err instanceof DistilleryError ? err.message : (err.stack ?? String(err))}\n`);
  process.exitCode = 1;
}
