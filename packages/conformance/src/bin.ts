#!/usr/bin/env node
/**
 * `node packages/conformance/dist/bin.js [cases.json] [--backend cpu|wasm|native|tensorflow] [--plugins pkg,pkg]`
 *
 * Runs the cases (default: the shared `reference/textbrewer-losses.json`) against a registry
 * with the built-in plugin packages (plus `--plugins`), prints failures and skipped cases, and
 * ends with the line `N passed, M failed, K skipped`. Exit code 1 when any case failed, 2 on a
 * usage or setup error.
 */
import { createRegistry, initBackend, sharedPath, silentLogger } from '@distillery/core';
import { runCases, summaryLine } from './runner.js';

function short(x: unknown, max = 400): string {
  const s = JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(9)) : v));
  return s === undefined ? 'undefined' : s.length > max ? `${s.slice(0, max)}…` : s;
}

async function main(argv: string[]): Promise<number> {
  let file: string | undefined;
  let backend = process.env.DISTILLERY_BACKEND ?? 'cpu';
  const plugins: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--backend') backend = argv[++i] ?? backend;
    else if (a === '--plugins') plugins.push(...(argv[++i] ?? '').split(',').filter(Boolean));
    else if (a === '-h' || a === '--help') {
      console.log('usage: distillery-conformance [cases.json] [--backend cpu] [--plugins pkg1,pkg2]');
      return 0;
    } else file = a;
  }
  file ??= sharedPath('reference', 'textbrewer-losses.json');
  if (!file) {
    console.error('no case file given and shared/reference/textbrewer-losses.json was not found (set DISTILLERY_SHARED)');
    return 2;
  }
  await initBackend({ backend, logger: { info: (m) => console.error(m) } });
  // Typed on the command line: any path is intended (URLs are still refused).
  const registry = await createRegistry({ plugins, logger: silentLogger, resolve: { trusted: true } });
  const report = await runCases(file, { registry });
  for (const f of report.failures) {
    console.log(`FAIL ${f.name} [${f.fn}]: ${f.message}`);
    console.log(`  expected: ${short(f.expected)}`);
    console.log(`  got:      ${short(f.got)}`);
  }
  if (report.skipped) {
    console.log(`skipped (no handler for ${report.skippedFns.join(', ')}):`);
    for (const n of report.skippedNames) console.log(`  ${n}`);
  }
  console.log(summaryLine(report));
  return report.failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  },
);
