/**
 * The real `distillery` bin, spawned as a user runs it: help, version, typo suggestions, option
 * validation, `--json` outputs (exactly one JSON document on stdout, logs on stderr) and the shim.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfigPath, mlpDemoConfigPath } from '@distillery/cli';

const root = join(import.meta.dirname, '..', '..');
const shim = join(root, 'packages', 'cli', 'bin', 'distillery.js');

/** The environment of a user's shell: without vitest's variables (VITEST changes how core loads tfjs). */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env, DISTILLERY_BACKEND: 'cpu' };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'TEST' || k === 'NODE_ENV') delete env[k];
  return env;
}

function cli(args: string[], opts: { cwd?: string } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [shim, ...args], {
    cwd: opts.cwd ?? root,
    encoding: 'utf8',
    env: userEnv(),
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function smallDemo(dir: string): string {
  const cfg = JSON.parse(readFileSync(mlpDemoConfigPath(), 'utf8'));
  delete cfg.$schema;
  Object.assign(cfg.task, { features: 128 });
  cfg.task.data.maxExamples = 200;
  cfg.teacher.model.hidden = [8];
  cfg.teacher.training.numEpochs = 1;
  cfg.training.numEpochs = 1;
  cfg.training.outputDir = 'run';
  cfg.training.backend = 'cpu';
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

describe('the distillery bin', () => {
  it('--version prints the package version; --help lists every command', () => {
    const v = cli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(
      JSON.parse(readFileSync(join(root, 'packages', 'cli', 'package.json'), 'utf8')).version,
    );
    const h = cli(['--help']);
    expect(h.code).toBe(0);
    for (const c of ['distill', 'train', 'validate', 'plugins', 'predict', 'schema']) expect(h.stdout).toContain(c);
  });

  it('per-command --help lists every option', () => {
    const h = cli(['distill', '--help']);
    expect(h.code).toBe(0);
    for (const o of [
      '--json',
      '--log-level <level>',
      '--no-progress',
      '--resume [path]',
      '--force',
      '--overwrite',
      '--allow-plugin <path>',
      '--help',
    ])
      expect(h.stdout).toContain(o);
    const p = cli(['predict', '--help']);
    for (const o of [
      '--model <path>',
      '--input <file>',
      '--runtime <name>',
      '--tokenizer <dir>',
      '--batch-size <n>',
      '--json',
      '--jsonl',
    ])
      expect(p.stdout).toContain(o);
  });

  it('suggests the command and the option meant, lists the valid ones, validates --log-level', () => {
    const c = cli(['distil']);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain("unknown command 'distil'");
    expect(c.stderr).toContain('Did you mean distill?');
    const o = cli(['validate', 'x.json', '--jsn']);
    expect(o.code).toBe(1);
    expect(o.stderr).toContain("unknown option '--jsn'");
    expect(o.stderr).toContain('Did you mean --json?');
    expect(o.stderr).toMatch(/valid options for validate: .*--log-level.*--json/);
    const l = cli(['schema', '--log-level', 'loud']);
    expect(l.code).toBe(1);
    expect(l.stderr).toContain('Allowed choices are debug, info, warn, error, silent');
    expect(l.stdout).toBe('');
  });

  it('--json: one JSON document on stdout for schema, validate, plugins', () => {
    const s = cli(['schema']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).title).toBe('Distillery job config');
    const ok = cli(['validate', defaultConfigPath(), '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, problems: [] });
    const dir = mkdtempSync(join(tmpdir(), 'distillery-bin-'));
    writeFileSync(
      join(dir, 'bad.json'),
      '{\n  "task": {"data": {"type": "spam-assassin"}},\n  "teacher": {"model": {"type": "mlp"}},\n  "student": {"model": {"type": "mlp"}},\n  "training": {"numEpochs": 1},\n  "distillation": {"kdLossType": "kll"}\n}\n',
    );
    const bad = cli(['validate', join(dir, 'bad.json'), '--json']);
    expect(bad.code).toBe(1);
    const doc = JSON.parse(bad.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.problems[0]).toMatchObject({ path: 'distillation.kdLossType', line: 6 });
    expect(bad.stderr).toContain('did you mean "kl"');
    const pl = cli(['plugins', '--json']);
    expect(JSON.parse(pl.stdout)['kd-loss'].length).toBeGreaterThan(3);
  });

  it('npm run -s distillery -- schema yields valid JSON', () => {
    const r = spawnSync('npm', ['run', '-s', 'distillery', '--', 'schema'], {
      cwd: root,
      encoding: 'utf8',
      env: userEnv(),
      timeout: 120_000,
    });
    expect(r.status).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });

  it('distill --json: the summary as one JSON document, logs and progress on stderr; paths relative to the config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-bin-'));
    const file = smallDemo(dir);
    const r = cli(['distill', file, '--json', '--no-progress'], { cwd: tmpdir() });
    expect(r.stderr).toContain('teacher accuracy');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.student.accuracy).toBeGreaterThan(0);
    expect(doc.outputDir).toBe(join(dir, 'run'));
    expect(readFileSync(join(dir, 'run', 'summary.json'), 'utf8')).toContain('"student"');
  });

  it('errors under --json are a JSON document too (exit 1)', () => {
    const r = cli(['distill', join(tmpdir(), 'no-such-config.json'), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'CONFIG_NOT_FOUND' } });
  });

  it('the READMEs quote the real help texts (regenerate: node packages/cli/scripts/readme-help.mjs)', async () => {
    const { README_FILES, refreshed } = await import('../../packages/cli/scripts/readme-help.mjs');
    for (const f of README_FILES) {
      const text = readFileSync(f, 'utf8');
      expect(text).toContain('<!-- distillery-help:');
      expect(await refreshed(text), f).toBe(text);
    }
  });

  it('the bin shim says how to build when dist is missing outside a checkout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-shim-'));
    mkdirSync(join(dir, 'a', 'b', 'bin'), { recursive: true });
    copyFileSync(shim, join(dir, 'a', 'b', 'bin', 'distillery.js'));
    const r = spawnSync(process.execPath, [join(dir, 'a', 'b', 'bin', 'distillery.js'), '--version'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('run `npm run build` first');
  });
});
