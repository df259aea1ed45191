/** `distillery schema`: the JSON Schema of job config files (for editor autocompletion). */
import type { Command } from 'commander';
import { jobJsonSchema } from '../job/schema.js';
import { action, commonOptions, writeJson, type CliContext } from './common.js';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('schema').description('print the JSON Schema of config files (always JSON)');
  // --json is accepted for uniformity: the output is one JSON document either way.
  commonOptions(cmd, { json: 'accepted for uniformity (the output is JSON anyway)' }).action(
    action(ctx, () => {
      writeJson(ctx, jobJsonSchema());
      return Promise.resolve(0);
    }),
  );
}
