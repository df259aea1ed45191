/**
 * The plugin loading policy: a config's `plugins` entry runs code, so only npm package names (from the
 * config's folder, then the working directory) and relative paths inside the config's folder load;
 * URLs are refused, absolute or escaping paths need `--allow-plugin`, and `validate` never imports.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { resolvePluginSpecifier } from '@distillery/core';
import { mlpDemoConfigPath, validateCommand } from '@distillery/cli';

const shim = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'distillery.js');

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(c, _e, cb) {
      w.text += String(c);
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DISTILLERY_BACKEND: 'cpu', ...extra };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST')) delete env[k];
  return env;
}

/** A plugin module that leaves `ran.txt` beside itself when imported. */
const PLUGIN_JS = `import { writeFileSync } from 'node:fs';
writeFileSync(new URL('./ran.txt', import.meta.url), 'ran');
export default { name: 'my-plugin', version: '1.2.3', plugins: () => [{ meta: { name: 'my_l1', version: '1.2.3', kind: 'match-loss' }, compute: () => { throw new Error('unused'); } }] };
`;

/** A project folder: config.json (a tiny demo) listing `plugins`, plus a plugin file inside it. */
function project(plugins: string[]): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'distillery-plugins-'));
  mkdirSync(join(dir, 'project', 'plugins'), { recursive: true });
  writeFileSync(join(dir, 'project', 'plugins', 'mine.js'), PLUGIN_JS);
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'theirs.js'), PLUGIN_JS);
  const cfg = JSON.parse(readFileSync(mlpDemoConfigPath(), 'utf8'));
  delete cfg.$schema;
  cfg.plugins = plugins;
  cfg.task.data.maxExamples = 100;
  cfg.task.features = 64;
  cfg.teacher.model.hidden = [8];
  cfg.teacher.training.numEpochs = 1;
  cfg.training.numEpochs = 1;
  cfg.training.outputDir = 'run';
  const file = join(dir, 'project', 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return { dir, file };
}

async function validate(file: string, allowPlugins?: string[]): Promise<{ code: number; text: string }> {
  const err = sink();
  const code = await validateCommand(file, sink(), { allowPlugins, err });
  return { code, text: err.text };
}

describe('plugin loading policy', () => {
  it('a data: URL is refused by validate and by distill, and never runs', () => {
    const { dir, file } = project([]);
    const marker = join(dir, 'marker.txt');
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    cfg.plugins = [
      `data:text/javascript,import{writeFileSync}from'node:fs';writeFileSync(${JSON.stringify(marker)},'ran')`,
    ];
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    for (const cmd of ['validate', 'distill']) {
      const r = spawnSync(process.execPath, [shim, cmd, file], { encoding: 'utf8', env: userEnv(), timeout: 120_000 });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain('plugins[0]');
      expect(r.stderr).toContain('is a URL');
      expect(existsSync(marker)).toBe(false);
    }
  });

  it.each([
    ['file: URL', (d: string) => `file://${join(d, 'project', 'plugins', 'mine.js')}`, 'is a URL'],
    ['http: URL', () => 'https://example.com/plugin.js', 'is a URL'],
    ['node: URL', () => 'node:child_process', 'is a URL'],
    ['absolute path', (d: string) => join(d, 'outside', 'theirs.js'), 'is an absolute path'],
    ['path leaving the config folder', () => '../outside/theirs.js', "leaves the config's folder"],
    ['neither a name nor a path', () => 'Not A Package!', 'neither an npm package name nor a relative path'],
  ])('refuses a %s (validate imports nothing)', async (_name, spec, message) => {
    const { dir, file } = project([]);
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    cfg.plugins = [spec(dir)];
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    const r = await validate(file);
    expect(r.code).toBe(1);
    expect(r.text).toContain('plugins[0]');
    expect(r.text).toContain(message);
    expect(existsSync(join(dir, 'outside', 'ran.txt'))).toBe(false);
    expect(existsSync(join(dir, 'project', 'plugins', 'ran.txt'))).toBe(false);
  });

  it('a built-in package name validates from any folder (it loads from the core)', async () => {
    const { file } = project(['@distillery/plugin-loss-kd']);
    expect((await validate(file)).code).toBe(0);
  });

  it('--allow-plugin admits an absolute or outside path', async () => {
    const { dir, file } = project([]);
    const outside = join(dir, 'outside', 'theirs.js');
    for (const spec of [outside, '../outside/theirs.js']) {
      const cfg = JSON.parse(readFileSync(file, 'utf8'));
      cfg.plugins = [spec];
      writeFileSync(file, JSON.stringify(cfg, null, 2));
      expect((await validate(file, [outside])).code).toBe(0);
      expect((await validate(file, [join(dir, 'outside')])).code).toBe(0); // a folder allows what is inside
    }
    expect(existsSync(join(dir, 'outside', 'ran.txt'))).toBe(false);
  });

  it('npm names resolve from the config folder first, then the working directory, never from the core', () => {
    const { dir } = project([]);
    const pkg = join(dir, 'project', 'node_modules', 'distillery-plugin-local');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: 'distillery-plugin-local',
        version: '2.0.1',
        type: 'module',
        exports: { '.': { import: './index.js' } },
      }),
    );
    writeFileSync(join(pkg, 'index.js'), PLUGIN_JS);
    const r = resolvePluginSpecifier('distillery-plugin-local', { configDir: join(dir, 'project'), cwd: tmpdir() });
    expect(r).toMatchObject({
      kind: 'package',
      file: join(pkg, 'index.js'),
      packageName: 'distillery-plugin-local',
      version: '2.0.1',
    });
    // From the working directory when the config's folder does not have it (a project's own install).
    const viaCwd = resolvePluginSpecifier('distillery-plugin-local', {
      configDir: join(dir, 'outside'),
      cwd: join(dir, 'project'),
    });
    expect(viaCwd.file).toBe(join(pkg, 'index.js'));
    // tsyringe is installed for the core, not for this project: not found.
    expect(() =>
      resolvePluginSpecifier('tsyringe', { configDir: join(dir, 'project'), cwd: join(dir, 'project') }),
    ).toThrow(/not installed where the config is/);
    expect(existsSync(join(pkg, 'ran.txt'))).toBe(false);
  });

  it('a relative path inside the config folder: validate does not run it; distill loads it and logs name and version', () => {
    const { dir, file } = project(['./plugins/mine.js']);
    const ran = join(dir, 'project', 'plugins', 'ran.txt');
    const v = spawnSync(process.execPath, [shim, 'validate', file], {
      encoding: 'utf8',
      env: userEnv(),
      timeout: 120_000,
    });
    expect(v.status, v.stderr).toBe(0);
    expect(existsSync(ran)).toBe(false);
    const d = spawnSync(process.execPath, [shim, 'train', file, '--json', '--no-progress'], {
      encoding: 'utf8',
      env: userEnv(),
      timeout: 120_000,
    });
    expect(d.status, d.stderr).toBe(0);
    expect(existsSync(ran)).toBe(true);
    expect(d.stderr).toContain(
      `plugin module my-plugin@1.2.3 loaded from ${join(dir, 'project', 'plugins', 'mine.js')}`,
    );
  });
});
