/** `distillery distill [config]`. */
import type { Command } from 'commander';
import type { CliContext } from './common.js';
import { registerJobCommand } from './job.js';

export function register(program: Command, ctx: CliContext): void {
  registerJobCommand(
    program,
    ctx,
    'distill',
    'distil a student from a teacher (no config: the embedded SpamAssassin demo)',
  );
}
