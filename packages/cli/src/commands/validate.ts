/**
 * `distillery validate <config>` and the loader `distill`/`train` share: the schema, then every
 * check that can be made without training, all problems reported at once.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, createRegistry, loadConfigFile, silentLogger } from '@distillery/core';
import { assertJobConfig } from '../validate/index.js';
import { JobConfigSchema, type JobConfig } from '../job/schema.js';
import { resolveConfigPaths } from '../job/paths.js';
import { action, commonOptions, type CliContext, type CommonOptions } from './common.js';

/** Options of {@link loadJobConfig}. */
export interface LoadJobConfigOptions {
  /** `--allow-plugin` paths: plugin files outside the config's folder that may be loaded. */
  allowPlugins?: readonly string[];
  /**
   * What relative paths in the config are relative to: its own folder (default, as tsconfig and
   * ESLint do) or the working directory (the embedded demo).
   */
  pathsFrom?: 'config' | 'cwd';
}

/**
 * Load and fully check a job config: the schema, then every check that needs no training (files,
 * model shapes, matches, plugins resolved but not run), all problems in one {@link ConfigError}.
 * Relative paths in the result are made absolute against the config's folder.
 */
export async function loadJobConfig(
  file: string,
  opts: LoadJobConfigOptions = {},
): Promise<{ config: JobConfig; text: string }> {
  const parsed = loadConfigFile(JobConfigSchema, file);
  const text = readFileSync(file, 'utf8');
  const configDir = opts.pathsFrom === 'cwd' ? process.cwd() : dirname(resolve(file));
  const config = opts.pathsFrom === 'cwd' ? parsed : resolveConfigPaths(parsed, configDir);
  const builtins = await createRegistry({ logger: silentLogger });
  assertJobConfig({ config, configDir, resolve: { configDir, allow: opts.allowPlugins ?? [] }, builtins }, file, text);
  return { config, text };
}

/** One line describing a valid config. */
function describe(config: JobConfig): string {
  const m = config.distillation.intermediateMatches.length;
  return `${config.teacher.model.type} teacher → ${config.student.model.type} student, kd ${config.distillation.kdLossType}, ${m} intermediate match${m === 1 ? '' : 'es'}`;
}

/** `distillery validate <config>`: exit 0 and a one-line OK, or 1 with every problem named. */
export async function validateCommand(
  file: string,
  out: NodeJS.WritableStream = process.stdout,
  opts: LoadJobConfigOptions & { json?: boolean; err?: NodeJS.WritableStream } = {},
): Promise<number> {
  const err = opts.err ?? process.stderr;
  try {
    const { config } = await loadJobConfig(file, opts);
    if (opts.json)
      out.write(JSON.stringify({ ok: true, file, summary: describe(config), problems: [] }, null, 2) + '\n');
    else out.write(`${file}: valid (${describe(config)})\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      if (opts.json) out.write(JSON.stringify({ ok: false, file, problems: e.issues }, null, 2) + '\n');
      err.write(`${e.message}\n`);
      return 1;
    }
    const code = (e as { code?: string }).code;
    if (code) {
      const de = e as { message: string; where?: string; hint?: string };
      if (opts.json)
        out.write(
          JSON.stringify(
            { ok: false, file, problems: [{ path: de.where ?? '(root)', code, message: de.message, hint: de.hint }] },
            null,
            2,
          ) + '\n',
        );
      err.write(`${de.message}\n`);
      return 1;
    }
    throw e;
  }
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('validate')
    .description(
      'check a config without training: every problem at once, by path, file:line:col and fix (exit 1 if any)',
    )
    .argument('<config>', 'job config file');
  commonOptions(cmd, { json: 'print one JSON document: {ok, file, problems: [{path, line, column, message, hint}]}' })
    .option(
      '--allow-plugin <path>',
      'allow a plugin path outside the config folder (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .action(
      action(ctx, async (file: string, o: CommonOptions & { allowPlugin?: string[] }) =>
        validateCommand(file, ctx.out, { json: o.json, allowPlugins: o.allowPlugin, err: ctx.err }),
      ),
    );
}
