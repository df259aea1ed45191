#!/usr/bin/env node
// `npm test` after the build: the vitest suites (unit + integration), then the TextBrewer
// conformance cases, then one closing line counting both: `tests: N passed, M failed, K skipped`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'distillery-test-'));
const report = join(dir, 'vitest.json');
const extra = process.argv.slice(2);

const vitest = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules/vitest/vitest.mjs'),
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...extra,
  ],
  { cwd: root, stdio: 'inherit' },
);
let v = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 };
try {
  v = JSON.parse(readFileSync(report, 'utf8'));
} catch {
  v.numFailedTests = 1; // vitest crashed before writing its report
}
rmSync(dir, { recursive: true, force: true });

const conf = spawnSync(process.execPath, [join(root, 'packages/conformance/dist/bin.js')], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
process.stdout.write(conf.stdout ?? '');
const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/.exec(conf.stdout ?? '');
const c = m ? { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0) } : { passed: 0, failed: 1, skipped: 0 };

const passed = v.numPassedTests + c.passed;
const failed =
  v.numFailedTests + c.failed + (vitest.status && !v.numFailedTests ? 1 : 0) + (conf.status && !c.failed ? 1 : 0);
const skipped = v.numPendingTests + v.numTodoTests + c.skipped;
console.log(
  `\nvitest: ${v.numPassedTests} passed, ${v.numFailedTests} failed; conformance: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`,
);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
