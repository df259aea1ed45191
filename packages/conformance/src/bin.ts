#!/usr/bin/env node
/**
 * `node packages/conformance/dist/bin.js [cases.json] [--backend cpu|wasm|native|tensorflow] [--plugins pkg,pkg]`
 *
 * Runs the cases (default: the shared `reference/textbrewer-losses.json`) against a registry
 * with the built-in plugin packages (plus `--plugins`), prints failures and skipped cases, and
 * ends with the line `N passed, M failed, K skipped`. Exit code 1 when any case failed, 2 on a
 * usage or setup error. `--strict` (the default under `CI=true`) also exits 1 when a case was
 * skipped: in CI every reference case must run, so a case without a handler turns the build red.
 */
import { conformanceMain } from './main.js';

conformanceMain(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  },
);
