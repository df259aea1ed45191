/** `distillery train [config]`. */
import type { Command } from 'commander';
import type { CliContext } from './common.js';
import { registerJobCommand } from './job.js';

export function register(program: Command, ctx: CliContext): void {
  registerJobCommand(program, ctx, 'train', 'train and evaluate the teacher only');
}
