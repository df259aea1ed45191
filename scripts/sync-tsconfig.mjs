#!/usr/bin/env node
// Keeps TypeScript project references in step with package.json: the root tsconfig.json
// references every workspace that has a tsconfig.json, and each workspace references the
// workspaces it depends on. Run by `npm run build` before `tsc -b`, so nobody edits them by hand.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const groups = ['packages', 'plugins', 'examples', 'tests'];
const ws = new Map(); // name -> dir
for (const g of groups) {
  const gd = join(root, g);
  if (!existsSync(gd)) continue;
  for (const d of readdirSync(gd).sort()) {
    const dir = join(gd, d);
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) {
      ws.set(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name, dir);
    }
  }
}
const writeIfChanged = (file, obj) => {
  const text = JSON.stringify(obj, null, 2) + '\n';
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
};
for (const [, dir] of ws) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const deps = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies };
  const refs = Object.keys(deps).filter((n) => ws.has(n)).sort().map((n) => ({ path: relative(dir, ws.get(n)) }));
  const tsFile = join(dir, 'tsconfig.json');
  const ts = JSON.parse(readFileSync(tsFile, 'utf8'));
  if (refs.length) ts.references = refs; else delete ts.references;
  writeIfChanged(tsFile, ts);
}
writeIfChanged(join(root, 'tsconfig.json'), {
  files: [],
  references: [...ws.values()].map((d) => ({ path: './' + relative(root, d) })),
});
