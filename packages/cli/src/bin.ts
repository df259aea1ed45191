#!/usr/bin/env node
/**
 * The `distillery` command-line tool.
 *
 *   distillery distill [config.json]   distil a student (no config: the embedded SpamAssassin demo)
 *   distillery train [config.json]     train (and evaluate) the teacher only
 *   distillery validate <config.json>  check a config; exit 1 with path/line-named errors
 *   distillery plugins [--json]        registered plugins by kind
 *   distillery predict --model <hf-dir> --input <texts.txt|jsonl> [--json]
 *   distillery schema                  print the JSON Schema of config files
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createLogger, DistilleryError } from '@distillery/core';
import { validateCommand, loadJobConfig } from './commands/validate.js';
import { pluginsCommand } from './commands/plugins.js';
import { predictCommand } from './commands/predict.js';
import { runJob, formatSummary } from './job/run.js';
import { jobJsonSchema } from './job/schema.js';
import { defaultConfigPath } from './default-config.js';

const USAGE = `usage: distillery <command> [options]

commands:
  distill [config.json]    distil a student from a teacher (no config: embedded SpamAssassin demo)
  train [config.json]      train and evaluate the teacher only
  validate <config.json>   validate a config (exit 1 with path- and line-named errors)
  plugins [--json]         list registered plugins by kind
  predict --model <dir> --input <file> [--json] [--truncation longest_first|only_second]
                           classify texts (or text_a/text_b pairs in JSONL) with a Hugging Face folder
  schema                   print the JSON Schema of config files

options:
  --no-progress            plain log lines instead of a progress bar
  --log-level <level>      debug | info | warn | error (default info)
  --plugin <pkg>           load an extra plugin package (repeatable; plugins command)
`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      model: { type: 'string' },
      input: { type: 'string' },
      'batch-size': { type: 'string' },
      truncation: { type: 'string' },
      'no-progress': { type: 'boolean' },
      'log-level': { type: 'string' },
      plugin: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, arg] = positionals;
  const logger = createLogger('distillery', { level: (values['log-level'] as never) ?? undefined });
  if (values.help || !cmd) {
    process.stdout.write(USAGE);
    return cmd || values.help ? 0 : 1;
  }
  switch (cmd) {
    case 'validate':
      if (!arg) throw new DistilleryError('USAGE', 'validate needs a config file', { hint: 'distillery validate my-config.json' });
      return validateCommand(arg);
    case 'plugins':
      return pluginsCommand({ json: values.json, plugins: values.plugin });
    case 'schema':
      process.stdout.write(JSON.stringify(jobJsonSchema(), null, 2) + '\n');
      return 0;
    case 'predict':
      if (!values.model || !values.input) throw new DistilleryError('USAGE', 'predict needs --model <hf-dir> and --input <file>');
      await predictCommand({ model: values.model, input: values.input, json: values.json, batchSize: values['batch-size'] ? Number(values['batch-size']) : undefined, truncation: values.truncation as never });
      return 0;
    case 'distill':
    case 'train': {
      const file = arg ?? defaultConfigPath();
      if (!arg) logger.info(`no config given: running the embedded demo (${file})`);
      const { config, text } = await loadJobConfig(file);
      const summary = await runJob(config, cmd, { logger, progress: values['no-progress'] ? 'lines' : true, configFile: file, configText: text });
      process.stdout.write(formatSummary(summary) + '\n');
      return 0;
    }
    default:
      throw new DistilleryError('USAGE', `unknown command "${cmd}"`, { hint: 'commands: distill, train, validate, plugins, predict, schema' });
  }
}

// Run when executed directly (not when imported by tests).
const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain || process.argv[1]?.endsWith('/bin.js')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`distillery: ${e instanceof Error ? e.message : String(e)}\n`);
      if (process.env.DISTILLERY_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exit(1);
    },
  );
}
