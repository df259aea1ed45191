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
const depsOf = (dir) => {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies }).filter((n) =>
    ws.has(n),
  );
};
/** Whether workspace `from` depends on `to`, directly or through other workspaces. */
const reaches = (from, to, seen = new Set()) => {
  if (from === to) return true;
  if (seen.has(from)) return false;
  seen.add(from);
  return depsOf(ws.get(from)).some((n) => reaches(n, to, seen));
};
/** Whether a TypeScript file under `dir`/src imports `name` (a build-time, not only runtime, dependency). */
const imports = (dir, name) => {
  const walk = (d) =>
    readdirSync(d, { withFileTypes: true }).some((e) =>
      e.isDirectory()
        ? walk(join(d, e.name))
        : e.name.endsWith('.ts') && new RegExp(`from '${name}(/[^']*)?'`).test(readFileSync(join(d, e.name), 'utf8')),
    );
  return existsSync(join(dir, 'src')) && walk(join(dir, 'src'));
};
for (const [name, dir] of ws) {
  // References must not form a cycle. The core declares the built-in plugin packages (it loads them by name
  // at run time) and they import the core: in such a cycle only the side whose sources import the other
  // gets the reference.
  const refs = depsOf(dir)
    .filter((n) => !reaches(n, name) || imports(dir, n))
    .sort()
    .map((n) => ({ path: relative(dir, ws.get(n)) }));
  const tsFile = join(dir, 'tsconfig.json');
  const ts = JSON.parse(readFileSync(tsFile, 'utf8'));
  if (refs.length) ts.references = refs;
  else delete ts.references;
  writeIfChanged(tsFile, ts);
}
writeIfChanged(join(root, 'tsconfig.json'), {
  files: [],
  references: [...ws.values()].map((d) => ({ path: './' + relative(root, d) })),
});
