#!/usr/bin/env node
// Keeps the help texts quoted in the READMEs identical to the real ones. A block is marked
//   <!-- distillery-help: validate -->  followed by a ```text fence (empty name: `distillery --help`).
// `node packages/cli/scripts/readme-help.mjs` rewrites the blocks; `--check` exits 1 when one differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
export const README_FILES = [`${root}README.md`, `${root}packages/cli/README.md`];
const BLOCK = /(<!-- distillery-help: ?([a-z-]*) -->\n```text\n)([\s\S]*?)(```)/g;

/** The help text of `distillery <command> --help` (or the program's), as the bin prints it. */
export async function helpText(command) {
  const { main } = await import(new URL('../dist/bin.js', import.meta.url).href);
  let text = '';
  const out = new Writable({
    write(c, _e, cb) {
      text += String(c);
      cb();
    },
  });
  await main([...(command ? [command] : []), '--help'], { out, err: out });
  return text;
}

/** The README text with every marked block replaced by the current help. */
export async function refreshed(text) {
  const names = [...text.matchAll(BLOCK)].map((m) => m[2]);
  const helps = new Map();
  for (const n of names) helps.set(n, await helpText(n));
  return text.replace(BLOCK, (_all, open, name, _old, close) => `${open}${helps.get(name)}${close}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const f of README_FILES) {
    const text = readFileSync(f, 'utf8');
    const next = await refreshed(text);
    if (next === text) continue;
    stale++;
    if (check)
      process.stderr.write(`${f}: help texts differ from the CLI's (run node packages/cli/scripts/readme-help.mjs)\n`);
    else writeFileSync(f, next);
  }
  process.exit(check && stale ? 1 : 0);
}
