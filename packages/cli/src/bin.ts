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
 *   distillery bench --model <hf-dir|model.onnx> --data <config|dir|file> [--split test] [--results results.json]
 *   distillery search <config.json> --trials N --space alpha=0..1,temperature=1..20,numEpochs=2..6
 *   distillery report <results.json> --out report.svg|report.html
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createLogger, DistilleryError } from '@distillery/core';
import { validateCommand, loadJobConfig } from './commands/validate.js';
import { pluginsCommand } from './commands/plugins.js';
import { predictCommand } from './commands/predict.js';
import { reportCommand } from './commands/report.js';
import { benchCommand } from './commands/bench.js';
import { searchCommand } from './commands/search.js';
import { runJob, formatSummary } from './job/run.js';
import { jobJsonSchema } from './job/schema.js';
import { defaultConfigPath } from './default-config.js';

const USAGE = `usage: distillery <command> [options]

commands:
  distill [config.json]    distil a student from a teacher (no config: embedded SpamAssassin demo)
  train [config.json]      train and evaluate the teacher only
  validate <config.json>   validate a config (exit 1 with path- and line-named errors)
  plugins [--json]         list registered plugins by kind
  predict --model <dir> --input <file> [--json]   classify texts with a Hugging Face BERT folder
  schema                   print the JSON Schema of config files
  bench --model <hf-dir|model.onnx> --data <config|clinc dir|file> [--split test] [--runtime tfjs|onnx]
        [--label <name>] [--results results.json] [--runs 100] [--json]
                           accuracy, size on disk, single-query latency, throughput at batch 32
  search <config.json> --trials N --space alpha=0..1,temperature=1..20,numEpochs=2..6
        [--sampler tpe|random] [--pruner median|halving|none] [--study study.json] [--out best.json] [--seed N]
                           TPE search with pruning; resumable; writes the config with the best values
  report <results.json> --out report.svg|report.html [--highlight <label>] [--reference <label>]
        [--latency mean|p50|p95] [--summary <summary.json>]
                           latency x accuracy x size chart (HTML: chart + table + KD gain)

options:
  --no-progress            plain log lines instead of a progress bar
  --log-level <level>      debug | info | warn | error (default info)
  --plugin <pkg>           load an extra plugin package (repeatable; plugins command)
  --baseline [--seeds N]   distill: also train the student without the teacher (same init, data
                           order and budget) over N seeds (default 3) and report the KD gain
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
      'no-progress': { type: 'boolean' },
      'log-level': { type: 'string' },
      plugin: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
      out: { type: 'string' },
      highlight: { type: 'string' },
      reference: { type: 'string' },
      summary: { type: 'string', multiple: true },
      baseline: { type: 'boolean' },
      seeds: { type: 'string' },
      data: { type: 'string' },
      split: { type: 'string' },
      runtime: { type: 'string' },
      label: { type: 'string' },
      results: { type: 'string' },
      runs: { type: 'string' },
      trials: { type: 'string' },
      space: { type: 'string' },
      sampler: { type: 'string' },
      pruner: { type: 'string' },
      study: { type: 'string' },
      seed: { type: 'string' },
      latency: { type: 'string' },
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
      await predictCommand({ model: values.model, input: values.input, json: values.json, batchSize: values['batch-size'] ? Number(values['batch-size']) : undefined });
      return 0;
    case 'bench':
      if (!values.model || !values.data) throw new DistilleryError('USAGE', 'bench needs --model <hf-dir|model.onnx> and --data <config|data dir|file>', { hint: 'distillery bench --model runs/student/final --data ../shared/data/clinc150 --split test --results results.json' });
      await benchCommand({ model: values.model, data: values.data, split: values.split, runtime: values.runtime, label: values.label, results: values.results, runs: values.runs === undefined ? undefined : Number(values.runs), json: values.json });
      return 0;
    case 'search': {
      const trials = Number(values.trials);
      if (!arg || !values.space || !Number.isInteger(trials) || trials < 1) throw new DistilleryError('USAGE', 'search needs a config, --trials N (a positive integer) and --space', { hint: 'distillery search config.json --trials 20 --space alpha=0..1,temperature=1..20,numEpochs=2..6' });
      await searchCommand({ config: arg, trials, space: values.space, sampler: values.sampler, pruner: values.pruner, study: values.study, out: values.out, seed: values.seed === undefined ? undefined : Number(values.seed), logger });
      return 0;
    }
    case 'report': {
      if (!arg || !values.out) throw new DistilleryError('USAGE', 'report needs a results file and --out', { hint: 'distillery report results.json --out report.html' });
      process.stdout.write(`wrote ${await reportCommand({ results: arg, out: values.out, highlight: values.highlight, reference: values.reference, latency: values.latency, summaries: values.summary })}\n`);
      return 0;
    }
    case 'distill':
    case 'train': {
      const file = arg ?? defaultConfigPath();
      if (!arg) logger.info(`no config given: running the embedded demo (${file})`);
      const { config, text } = await loadJobConfig(file);
      const seeds = values.seeds === undefined ? undefined : Number(values.seeds);
      if (seeds !== undefined && (!Number.isInteger(seeds) || seeds < 1)) throw new DistilleryError('USAGE', `--seeds must be a positive integer, got "${values.seeds}"`, { where: '--seeds' });
      if (seeds !== undefined && !values.baseline) throw new DistilleryError('USAGE', '--seeds only applies with --baseline', { where: '--seeds', hint: `distillery distill ${arg ? `${arg} ` : ''}--baseline --seeds ${seeds}` });
      const baseline = values.baseline ? { seeds } : undefined;
      if (baseline && cmd !== 'distill') throw new DistilleryError('USAGE', '--baseline compares a distilled student with one trained without the teacher: use it with distill', { where: '--baseline' });
      const summary = await runJob(config, cmd, { logger, progress: values['no-progress'] ? 'lines' : true, configFile: file, configText: text, baseline });
      process.stdout.write(formatSummary(summary) + '\n');
      return 0;
    }
    default:
      throw new DistilleryError('USAGE', `unknown command "${cmd}"`, { hint: 'commands: distill, train, validate, plugins, predict, schema, bench, search, report' });
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
