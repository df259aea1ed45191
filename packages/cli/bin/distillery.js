#!/usr/bin/env node
// The `distillery` bin: a committed shim, so `npx distillery` works right after `npm ci`.
// It runs the compiled CLI (dist/bin.js). In a source checkout where dist is missing, it builds the
// monorepo once (`tsc -b`, about a minute) and then runs; elsewhere it says to run `npm run build`.
import { existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(dist))) {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const tsc = `${root}node_modules/typescript/bin/tsc`;
  if (existsSync(`${root}tsconfig.json`) && existsSync(tsc)) {
    process.stderr.write('distillery: first run in this checkout: building (npm run build) …\n');
    // A build-info file left from an earlier build would make `tsc -b` think dist is current.
    rmSync(fileURLToPath(new URL('../tsconfig.tsbuildinfo', import.meta.url)), { force: true });
    const r = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, stdio: ['ignore', 2, 2] });
    if (r.status !== 0 || !existsSync(fileURLToPath(dist))) {
      process.stderr.write(`distillery: the build failed; run \`npm run build\` in ${root} and look at its errors\n`);
      process.exit(1);
    }
  } else {
    process.stderr.write(`distillery: ${fileURLToPath(dist)} is missing: run \`npm run build\` first\n`);
    process.exit(1);
  }
}
const { runCli } = await import(dist.href);
runCli();
