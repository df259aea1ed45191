#!/usr/bin/env node
// Builds the optional OpenBLAS addon (build/Release/distillery_native.node) with node-gyp.
// Never fails the install: without a compiler or the OpenBLAS headers it explains how to get the speed-up
// and exits 0, and Distillery falls back to the stock wasm backend.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { dirname, join } = require('node:path');

const pkgDir = join(__dirname, '..');
const strict = process.argv.includes('--strict');
const hint =
  '[backend-native] The native backend (OpenBLAS matmuls, 20-60x faster training on CPU) was not built.\n' +
  '  To enable it: apt-get install -y libopenblas-dev g++ make python3   (Debian/Ubuntu)\n' +
  '  then:         npm run build:native -w @distillery/backend-native\n' +
  '  Distillery works without it (tfjs wasm backend).';

function done(ok, why) {
  if (ok) {
    console.log('[backend-native] built build/Release/distillery_native.node');
    process.exit(0);
  }
  console.warn(`[backend-native] ${why}\n${hint}`);
  process.exit(strict ? 1 : 0);
}

// Up to date (newer than every source): nothing to do. Avoids `node-gyp rebuild` deleting build/ under a
// running process on every `npm install`. --force rebuilds anyway.
const addon = join(pkgDir, 'build', 'Release', 'distillery_native.node');
if (!process.argv.includes('--force') && existsSync(addon)) {
  const sources = ['binding.gyp', ...readdirSync(join(pkgDir, 'native')).map((f) => join('native', f))];
  const built = statSync(addon).mtimeMs;
  if (sources.every((f) => statSync(join(pkgDir, f)).mtimeMs <= built)) {
    console.log('[backend-native] build/Release/distillery_native.node is up to date');
    process.exit(0);
  }
}
if (process.env.DISTILLERY_SKIP_NATIVE === '1') done(false, 'DISTILLERY_SKIP_NATIVE=1: skipping the addon build.');
const headers = [
  '/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h',
  '/usr/include/x86_64-linux-gnu/cblas.h',
  '/usr/include/aarch64-linux-gnu/cblas.h',
  '/usr/include/openblas/cblas.h',
  '/usr/include/cblas.h',
  '/usr/local/include/cblas.h',
  '/opt/homebrew/opt/openblas/include/cblas.h',
];
if (!headers.some((h) => existsSync(h)) && !process.env.DISTILLERY_FORCE_NATIVE) {
  done(false, 'OpenBLAS headers (cblas.h) not found.');
}

let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [pkgDir] });
} catch {
  done(false, 'node-gyp is not installed.');
}
const args = [gyp, 'rebuild'];
// Use the headers of the running node when they are installed locally, so no download is needed.
const nodeInclude = join(dirname(dirname(process.execPath)), 'include', 'node', 'node_api.h');
if (existsSync(nodeInclude)) args.push(`--nodedir=${dirname(dirname(process.execPath))}`);
const r = spawnSync(process.execPath, args, { cwd: pkgDir, stdio: ['ignore', 'inherit', 'inherit'] });
done(
  r.status === 0 && existsSync(join(pkgDir, 'build', 'Release', 'distillery_native.node')),
  `node-gyp rebuild failed (exit ${r.status ?? r.signal}).`,
);
