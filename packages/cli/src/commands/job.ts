/**
 * `distillery distill|train [config]`: the shared body of the two job commands — load and check the
 * config (every problem at once, before any data or model work), run the job, print the summary.
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DistilleryError } from '@distillery/core';
import { runJob, formatSummary } from '../job/run.js';
import { defaultConfigPath } from '../default-config.js';
import { runDemo } from '../demo/run-demo.js';
import { loadJobConfig } from './validate.js';
import { action, commandLogger, commonOptions, writeJson, type CliContext, type CommonOptions } from './common.js';

/** Options of `distill` and `train`. */
export interface JobCommandOptions extends CommonOptions {
  /** false with `--no-progress`. */
  progress?: boolean;
  /** `--resume` (true: the newest checkpoint in outputDir) or `--resume <path>`. */
  resume?: string | boolean;
  force?: boolean;
  overwrite?: boolean;
  /** `--allow-plugin <path>`, repeatable. */
  allowPlugin?: string[];
  /** distill: `--baseline` and `--seeds N`. */
  baseline?: boolean;
  seeds?: number;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The options `distill` and `train` share. */
export function jobOptions(cmd: Command): Command {
  commonOptions(cmd, { json: 'print the summary as one JSON document on stdout (logs stay on stderr)' });
  return cmd
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .option('--resume [path]', 'continue from a checkpoint (default: the newest in training.outputDir)')
    .option('--force', "with --resume: accept a config that differs from the checkpoint's")
    .option('--overwrite', 'clear a previous run (checkpoints, metrics) in training.outputDir first')
    .addOption(
      new Option(
        '--allow-plugin <path>',
        'allow loading a plugin from this path outside the config folder (repeatable)',
      ).argParser(collect),
    );
}

/** Register `name` (`distill` or `train`) on the program. */
export function registerJobCommand(
  program: Command,
  ctx: CliContext,
  mode: 'distill' | 'train',
  description: string,
): void {
  const cmd = program
    .command(mode)
    .description(description)
    .argument('[config]', 'job config file (none: the embedded SpamAssassin demo)');
  jobOptions(cmd);
  if (mode === 'distill') {
    cmd
      .option(
        '--baseline',
        'also train the same student without the teacher (same init, data order and budget) and report the KD gain',
      )
      .option('--seeds <n>', 'with --baseline: seeds to average the KD gain over (default 3)', (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
        return n;
      });
  }
  cmd.action(
    action(ctx, async (file0: string | undefined, o: JobCommandOptions) => {
      const logger = commandLogger(o);
      // `--resume x.json` (no config before it): the word is the config unless it is a checkpoint folder.
      let file = file0;
      if (typeof o.resume === 'string' && !existsSync(join(o.resume, 'state.json')) && file === undefined) {
        file = o.resume;
        o.resume = true;
      }
      // `distill` without a config: the demo (teacher, distilled student, baseline, ONNX int8, benchmark, report).
      if (!file && mode === 'distill') {
        if (o.resume !== undefined && o.resume !== false)
          throw new DistilleryError('USAGE', 'the embedded demo does not resume: it replaces its previous run', {
            where: '--resume',
            hint: 'run `distillery distill` again (the teacher is reused from its cache)',
          });
        logger.info(
          `no config given: running the embedded demo (${defaultConfigPath()}); it replaces its previous run (overwrite, the embedded demo only)`,
        );
        const r = await runDemo({
          logger,
          progress: o.progress === false ? 'lines' : true,
          out: o.json ? process.stderr : ctx.out,
        });
        if (o.json)
          writeJson(ctx, {
            ok: true,
            backend: r.backend,
            budget: r.budget,
            teacherCache: r.teacherCache,
            files: r.files,
            seconds: r.seconds,
            results: r.records,
          });
        return 0;
      }
      const path = file ?? defaultConfigPath();
      if (!file) logger.info(`no config given: running the embedded demo (${path})`);
      // The embedded demo's relative paths (outputDir) stay relative to the working directory.
      if (o.seeds !== undefined && !o.baseline)
        throw new DistilleryError('CONFIG_INVALID', '--seeds only applies with --baseline', {
          where: '--seeds',
          hint: `distillery distill ${file ?? ''} --baseline --seeds ${o.seeds}`,
        });
      const { config, text } = await loadJobConfig(path, {
        allowPlugins: o.allowPlugin,
        pathsFrom: file ? 'config' : 'cwd',
      });
      const summary = await runJob(config, mode, {
        logger,
        progress: o.progress === false ? 'lines' : true,
        configFile: path,
        configText: text,
        allowPlugins: o.allowPlugin,
        ...(o.resume !== undefined && o.resume !== false ? { resume: o.resume } : {}),
        ...(o.force ? { force: true } : {}),
        ...(o.overwrite ? { overwrite: true } : {}),
        handleSignals: true,
        ...(o.baseline ? { baseline: { seeds: o.seeds } } : {}),
      });
      if (o.json) writeJson(ctx, { ok: true, ...summary });
      else ctx.out.write(formatSummary(summary) + '\n');
      // Interrupted (SIGINT/SIGTERM): a checkpoint was written; 130 as shells report Ctrl-C.
      return summary.interrupted ? 130 : 0;
    }),
  );
}
