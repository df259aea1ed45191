/**
 * Runs a script in a fresh Node process with the built addon loaded as `a` (`dist/addon.js`'s `loadAddon()`), under
 * `env`, and returns the JSON it writes to stdout. For what a process decides once at start (the product engine,
 * the thread pool) and so cannot be switched inside one test process.
 */
import { spawnSync } from 'node:child_process';

const addonModule = JSON.stringify(new URL('../../dist/addon.js', import.meta.url).href);

export function runWithAddon<T>(body: string, env: NodeJS.ProcessEnv): T {
  const script = `const { loadAddon } = await import(${addonModule}); const a = loadAddon();\n${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`child exited with ${r.status ?? r.signal}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
