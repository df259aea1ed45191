/**
 * `distillery search <config> --trials N --space alpha=0..1,temperature=1..20,numEpochs=2..6
 * [--sampler tpe|random] [--pruner median|halving|none] [--study file] [--out best.json] [--seed N]`:
 * each trial distils the student with sampled parameters (its own output folder), reports every
 * evaluation to the pruner, and the study file is rewritten after each step so a stopped search
 * resumes. Prints the best parameters and writes the config with them applied. With `--queue
 * redis://host:port` the trials run on `distillery worker` processes (the sampler stays here).
 * @packageDocumentation
 */
import { basename, dirname, extname, join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { DistilleryError, writeFileAtomic, type Logger } from '@distillery/core';
import { Study, makePruner, makeSampler, optimize, parseSpace, type Params, type Trial } from '@distillery/search';
import { loadJobConfig } from './validate.js';
import { applySearchParams, checkSearchSpace, searchParamTypes } from '../job/search-params.js';
import { runSearchTrial } from '../job/search-trial.js';
import { Option, type Command } from 'commander';
import {
  action,
  commandLogger,
  commonOptions,
  writeJson,
  type CliContext,
  type CommonOptions,
  positiveInt,
} from './common.js';

/** Options of {@link searchCommand}. */
export interface SearchCommandOptions {
  config: string;
  trials: number;
  /** `name=low..high,...` (see {@link SEARCH_PARAMS}). */
  space: string;
  /** @default "tpe" */
  sampler?: string;
  /** @default "median" */
  pruner?: string;
  /** Study file. @default `<training.outputDir>/search/study.json` */
  study?: string;
  /** Config with the best parameters applied. @default `<config>.best.json` beside the config */
  out?: string;
  /** Sampler seed. @default 0 */
  seed?: number;
  logger: Logger;
  /** Where progress lines go. @default process.stdout */
  stdout?: NodeJS.WritableStream;
  /** `redis://host:port`: run trials on `distillery worker` processes (BullMQ). @default in this process */
  queue?: string;
  /** Trials queued at once in queued mode (about the number of workers). @default 3 */
  parallel?: number;
}

/** Result of a search. */
export interface SearchResult {
  best: Trial;
  studyFile: string;
  configFile: string;
  trials: readonly Trial[];
}

const fmt = (p: Params) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`)
    .join(', ');

/** Run (or resume) a search; returns the best trial and where the study and best config went. */
export async function searchCommand(o: SearchCommandOptions): Promise<SearchResult> {
  const out = o.stdout ?? process.stdout;
  const { config, text } = await loadJobConfig(o.config);
  const space = parseSpace(o.space, searchParamTypes());
  checkSearchSpace(space);
  const base = config.training.outputDir;
  const studyFile = o.study ?? join(base, 'search', 'study.json');
  mkdirSync(dirname(studyFile), { recursive: true });
  const seed = o.seed ?? 0;
  const study = Study.create({
    space,
    file: studyFile,
    sampler: makeSampler(o.sampler ?? 'tpe', seed),
    pruner: makePruner(o.pruner ?? 'median'),
    name: basename(o.config),
    meta: { config: o.config },
  });
  if (study.finished) o.logger.info(`resuming ${studyFile}: ${study.finished} finished trial(s)`);
  let metricName: string | undefined;
  const onTrial = (t: Trial) =>
    out.write(
      `trial ${t.number} ${t.state.padEnd(8)} ${t.value !== undefined ? `${(100 * t.value).toFixed(2)} %` : '       '}  ${fmt(t.params)}${t.state === 'pruned' ? `  (${t.message})` : ''}\n`,
    );
  let best: Trial | undefined;
  if (o.queue) {
    // Queued: trials run on `distillery worker` processes; sampler and study stay here. BullMQ is
    // loaded only now, so the default path never needs it (or Redis).
    const { optimizeQueued, pingQueue } = await import('@distillery/queue');
    await pingQueue(o.queue); // a clear error now rather than a search waiting on a dead address
    const configFile = resolve(o.config);
    o.logger.info(`queued search on ${o.queue}: up to ${o.parallel ?? 3} trial(s) at once`);
    best = await optimizeQueued(study, {
      url: o.queue,
      nTrials: o.trials,
      parallel: o.parallel,
      logger: o.logger,
      payload: () => ({ configFile }),
      onTrial,
    });
  } else {
    best = await optimize(
      study,
      async (t) => {
        o.logger.info(`trial ${t.number}: ${fmt(t.params)}`);
        const r = await runSearchTrial({
          config,
          configFile: o.config,
          configText: text,
          number: t.number,
          params: t.params,
          logger: o.logger,
          signal: t.signal,
          onEvaluate: (gs, v) => {
            if (t.report(gs, v)) o.logger.info(`trial ${t.number}: pruned at step ${gs} (${(100 * v).toFixed(2)} %)`);
          },
        });
        metricName = r.metric;
        return r.value;
      },
      { nTrials: o.trials, onTrial },
    );
  }
  if (!best)
    throw new DistilleryError('SEARCH_NO_RESULT', 'no trial completed (all were pruned or failed)', {
      where: studyFile,
      hint: 'use more --trials, or --pruner none',
    });
  if (metricName === 'student.accuracy')
    o.logger.warn(
      'the run summary has no validation accuracy: trials were ranked on the evaluation accuracy the run reports',
    );
  // The user's own JSON (its spelling kept: snake_case keys stay snake_case) with the best values.
  const raw = JSON.parse(text) as object;
  const configFile = o.out ?? join(dirname(o.config), `${basename(o.config, extname(o.config))}.best.json`);
  await writeFileAtomic(configFile, JSON.stringify(applySearchParams(raw, best.params), null, 2) + '\n');
  out.write(
    `best: trial ${best.number}, ${(100 * best.value!).toFixed(2)} % — ${fmt(best.params)}\nstudy: ${studyFile}\nconfig with the best parameters: ${configFile}\n`,
  );
  return { best, studyFile, configFile, trials: study.trials };
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('search')
    .description(
      'hyperparameter search (TPE, pruning on the evaluation curve, resumable study); writes the config with the best values',
    )
    .argument('<config>', 'job config file');
  commonOptions(cmd, { json: 'print {best, studyFile, configFile, trials} as one JSON document' })
    .requiredOption('--trials <n>', 'trials in the study (a resumed study runs only the missing ones)', positiveInt)
    .requiredOption('--space <space>', 'name=low..high,... e.g. alpha=0..1,temperature=1..20,numEpochs=2..6')
    .addOption(new Option('--sampler <name>', 'sampler').choices(['tpe', 'random']).default('tpe'))
    .addOption(new Option('--pruner <name>', 'pruner').choices(['median', 'halving', 'none']).default('median'))
    .option('--study <file>', 'study file (default: <training.outputDir>/search/study.json)')
    .option('--out <file>', 'config with the best values (default: <config>.best.json)')
    .option('--seed <n>', 'sampler seed', (v) => Number(v), 0)
    .option(
      '--queue <url>',
      'run trials on `distillery worker` processes through BullMQ on this Redis (redis://host:6379)',
    )
    .option('--parallel <n>', 'with --queue: trials queued at once (about the number of workers)', positiveInt, 3)
    .action(
      action(
        ctx,
        async (
          config: string,
          o: CommonOptions & {
            trials: number;
            space: string;
            sampler: string;
            pruner: string;
            study?: string;
            out?: string;
            seed: number;
            queue?: string;
            parallel: number;
          },
        ) => {
          const r = await searchCommand({
            config,
            trials: o.trials,
            space: o.space,
            sampler: o.sampler,
            pruner: o.pruner,
            study: o.study,
            out: o.out,
            seed: o.seed,
            queue: o.queue,
            parallel: o.parallel,
            logger: commandLogger(o),
            stdout: o.json ? ctx.err : ctx.out,
          });
          if (o.json) writeJson(ctx, r);
          return 0;
        },
      ),
    );
}
