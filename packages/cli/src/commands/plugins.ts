import { Option, type Command } from 'commander';
import { PLUGIN_KINDS, createRegistry, silentLogger } from '@distillery/core';
import { action, commonOptions, type CliContext, type CommonOptions } from './common.js';

/** `distillery plugins [--json]`: registered plugins by kind. */
export async function pluginsCommand(
  opts: { json?: boolean; plugins?: string[] },
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  // Entries typed on the command line are intended: any path loads (URLs are still refused).
  const r = await createRegistry({ plugins: opts.plugins ?? [], logger: silentLogger, resolve: { trusted: true } });
  const byKind = Object.fromEntries(
    PLUGIN_KINDS.map((k) => [
      k,
      r.list(k).map((p) => ({
        name: p.meta.name,
        aliases: p.meta.aliases ?? [],
        version: p.meta.version,
        package: p.meta.package,
        description: p.meta.description,
      })),
    ]),
  );
  if (opts.json) {
    out.write(JSON.stringify(byKind, null, 2) + '\n');
    return 0;
  }
  for (const [kind, list] of Object.entries(byKind)) {
    out.write(`${kind} (${list.length})\n`);
    for (const p of list) {
      const alias = p.aliases.length ? ` (aliases: ${p.aliases.join(', ')})` : '';
      out.write(`  ${p.name.padEnd(20)} ${String(p.package ?? '').padEnd(36)} ${p.description ?? ''}${alias}\n`);
    }
  }
  return 0;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('plugins').description('list the registered plugins by kind');
  commonOptions(cmd, { json: 'print one JSON document: plugins by kind' })
    .addOption(
      new Option('--plugin <package>', 'also load this plugin package or path (repeatable)').argParser(
        (v: string, prev: string[] = []) => [...prev, v],
      ),
    )
    .action(
      action(ctx, async (o: CommonOptions & { plugin?: string[] }) =>
        pluginsCommand({ json: o.json, plugins: o.plugin }, ctx.out),
      ),
    );
}
