/**
 * The conformance command line as a function (the bin calls it; tests call it in-process).
 * @packageDocumentation
 */
import { createRegistry, initBackend, sharedPath, silentLogger } from '@distillery/core';
import { runCases, summaryLine } from './runner.js';

const isCI = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

function short(x: unknown, max = 400): string {
  const s = JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(9)) : v));
  return s === undefined ? 'undefined' : s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Where {@link conformanceMain} writes: lines for stdout and stderr. */
export interface MainIO {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const consoleIO: MainIO = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** The command-line program (see the bin); returns the exit code. Exported for tests. */
export async function conformanceMain(argv: string[], io: MainIO = consoleIO): Promise<number> {
  let file: string | undefined;
  let backend = process.env.DISTILLERY_BACKEND ?? 'cpu';
  const plugins: string[] = [];
  let strict = isCI();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--backend') backend = argv[++i] ?? backend;
    else if (a === '--strict') strict = true;
    else if (a === '--plugins') plugins.push(...(argv[++i] ?? '').split(',').filter(Boolean));
    else if (a === '-h' || a === '--help') {
      io.out('usage: distillery-conformance [cases.json] [--backend cpu] [--plugins pkg1,pkg2] [--strict]');
      return 0;
    } else file = a;
  }
  file ??= sharedPath('reference', 'textbrewer-losses.json');
  if (!file) {
    io.err('no case file given and shared/reference/textbrewer-losses.json was not found (set DISTILLERY_SHARED)');
    return 2;
  }
  await initBackend({ backend, logger: { info: (m) => io.err(m) } });
  // Typed on the command line: any path is intended (URLs are still refused).
  const registry = await createRegistry({ plugins, logger: silentLogger, resolve: { trusted: true } });
  const report = await runCases(file, { registry });
  for (const f of report.failures) {
    io.out(`FAIL ${f.name} [${f.fn}]: ${f.message}`);
    io.out(`  expected: ${short(f.expected)}`);
    io.out(`  got:      ${short(f.got)}`);
  }
  if (report.skipped) {
    io.out(`skipped (no handler for ${report.skippedFns.join(', ')}):`);
    for (const n of report.skippedNames) io.out(`  ${n}`);
  }
  const strictFail = strict && report.skipped > 0;
  if (strictFail) {
    io.out(
      `FAIL: ${report.skipped} case(s) have no handler; --strict (on under CI=true) requires every case to run — register a handler for ${report.skippedFns.join(', ')}`,
    );
  }
  // The summary stays the last line (scripts/test.mjs parses it).
  io.out(summaryLine(report));
  return report.failed || strictFail ? 1 : 0;
}
