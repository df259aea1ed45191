import { defineConfig } from 'vitest/config';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Tests run on TypeScript sources: every workspace package name is aliased to its `src/index.ts`
 * (and `name/sub` to `src/sub.ts`), so `vitest run` needs no prior build.
 */
function workspaceAliases(): { find: RegExp; replacement: string }[] {
  const out: { find: RegExp; replacement: string }[] = [];
  for (const group of ['packages', 'plugins', 'examples', 'tests']) {
    if (!existsSync(group)) continue;
    for (const dir of readdirSync(group)) {
      const pkgFile = join(group, dir, 'package.json');
      if (!existsSync(pkgFile) || !existsSync(join(group, dir, 'src', 'index.ts'))) continue;
      const name = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { name: string }).name;
      const esc = name.replace(/[/\\^$*+?.()|[\]{}-]/g, '\\$&');
      out.push({ find: new RegExp(`^${esc}$`), replacement: resolve(group, dir, 'src/index.ts') });
      out.push({ find: new RegExp(`^${esc}/(.*)$`), replacement: resolve(group, dir, 'src') + '/$1.ts' });
    }
  }
  return out;
}

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    setupFiles: ['./vitest.setup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts', 'plugins/*/src/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/*/src/**/*.test.ts', 'tests/*/*.test.ts', 'examples/*/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
        },
      },
    ],
  },
});
