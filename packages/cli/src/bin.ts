#!/usr/bin/env node
/**
 * The `distillery` command-line tool, on commander: one file per command in `commands/`, each with
 * its own `--help`, typo suggestions for commands and options, `--version`, and `--json` on every
 * command that reports (one JSON document on stdout; logs and progress on stderr).
 *
 * The installed bin is the committed shim `bin/distillery.js`, which imports this file's `main`.
 * @packageDocumentation
 */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import type { CliContext } from './commands/common.js';

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** The program with every command registered; results and errors go to `ctx`'s streams. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('distillery')
    .description('Knowledge distillation for TypeScript: distil, train, validate configs, predict.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help (each command has its own: distillery <command> --help)')
    // A fixed width keeps the help identical on every terminal (the README quotes it).
    .configureHelp({ helpWidth: 100 })
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => ctx.out.write(s), writeErr: (s) => ctx.err.write(s) })
    // Throw instead of process.exit, so main() returns the status (and tests can run it in-process).
    .exitOverride();
  for (const m of COMMANDS) m.register(program, ctx);
  for (const c of program.commands) c.helpOption('-h, --help', 'show this help');
  const names = program.commands.map((c) => c.name());
  program.showHelpAfterError(`(commands: ${names.join(', ')}; run distillery --help)`);
  for (const c of program.commands) {
    // After any usage error, list what the command accepts.
    const flags = c.options.map((o) => o.long ?? o.short).filter(Boolean);
    c.showHelpAfterError(
      `(valid options for ${c.name()}: ${flags.join(', ')}, --help; run distillery ${c.name()} --help for details)`,
    );
  }
  return program;
}

/** Run the CLI on `argv` (without node and script); resolves to the exit status. */
export async function main(
  argv: string[],
  io: { out?: NodeJS.WritableStream; err?: NodeJS.WritableStream } = {},
): Promise<number> {
  const ctx: CliContext = { out: io.out ?? process.stdout, err: io.err ?? process.stderr, exitCode: 0 };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    throw e;
  }
  return ctx.exitCode;
}

/** Run `main` on this process's arguments and exit with its status. */
export function runCli(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Training leaves no handles open, but a native backend may keep the loop alive.
      setImmediate(() => process.exit(code));
    },
    (e: unknown) => {
      process.stderr.write(`distillery: ${e instanceof Error ? e.message : String(e)}\n`);
      if (process.env.DISTILLERY_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exit(1);
    },
  );
}

// `node packages/cli/dist/bin.js …` still works (the shim calls runCli itself).
const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) runCli();
