/**
 * What every command shares: the streams it writes to, `--log-level` and `--json`, and one error
 * path (a JSON error document on stdout under `--json`, the message on stderr always).
 * @packageDocumentation
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ConfigError, createLogger, DistilleryError, type LogLevel, type Logger } from '@distillery/core';

/** Where a command writes and how it reports its exit status (so tests can run `main` in-process). */
export interface CliContext {
  /** Results (one JSON document under `--json`). */
  out: NodeJS.WritableStream;
  /** Logs, progress and error messages. */
  err: NodeJS.WritableStream;
  /** Exit status set by the command that ran. */
  exitCode: number;
}

/** A command module: one file in `commands/` registers one (or a few) commands on the program. */
export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}

/** Accepted `--log-level` values. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** Options every reporting command has. */
export interface CommonOptions {
  logLevel?: LogLevel;
  json?: boolean;
}

/** Add `--log-level` (validated) and, when the command reports, `--json`. */
export function commonOptions(cmd: Command, opts: { json?: string } = {}): Command {
  cmd.addOption(
    new Option('--log-level <level>', 'log detail on stderr')
      .choices(LOG_LEVELS)
      .default('info')
      .env('DISTILLERY_LOG_LEVEL'),
  );
  if (opts.json) cmd.option('--json', opts.json);
  return cmd;
}

/** The logger of a command: stderr, at the chosen level. */
export function commandLogger(o: CommonOptions): Logger {
  return createLogger('distillery', { level: o.logLevel ?? 'info' });
}

/** A plain-object view of an error for `--json` output. */
export function errorJson(e: unknown): Record<string, unknown> {
  if (e instanceof ConfigError) {
    return { code: e.code, message: e.message, file: e.file, problems: e.issues };
  }
  if (e instanceof DistilleryError) return { code: e.code, message: e.message, where: e.where, hint: e.hint };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/**
 * Wrap a command's action: its return value is the exit status; a thrown error prints its message on
 * stderr (stack with DISTILLERY_DEBUG) and, under `--json`, `{ok: false, error}` on stdout.
 */
export function action<A extends unknown[]>(
  ctx: CliContext,
  fn: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      ctx.exitCode = await fn(...args);
    } catch (e) {
      // commander passes (args..., options, command); the options object is second to last.
      const o = args[args.length - 2] as CommonOptions | undefined;
      if (o?.json) ctx.out.write(JSON.stringify({ ok: false, error: errorJson(e) }, null, 2) + '\n');
      ctx.err.write(`distillery: ${e instanceof Error ? e.message : String(e)}\n`);
      if (process.env.DISTILLERY_DEBUG && e instanceof Error) ctx.err.write(`${e.stack}\n`);
      ctx.exitCode = 1;
    }
  };
}

/** Write one JSON document. */
export function writeJson(ctx: CliContext, value: unknown): void {
  ctx.out.write(JSON.stringify(value, null, 2) + '\n');
}

/** Commander parser of a positive integer option (`--trials 8`); anything else is commander's "invalid argument". */
export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}
