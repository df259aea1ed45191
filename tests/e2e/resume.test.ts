/**
 * Issue 9's exactness contract, end to end through the `distillery` command in child processes: a
 * run killed with SIGKILL at step k (or inside a checkpoint write) and continued with `--resume`
 * ends with the same student weights as the uninterrupted run (max |Δ| ≤ 1e-6), the same loss at
 * every step, and a metrics.jsonl with every step exactly once. The student has dropout, so the
 * RNG position matters. Also: a changed config is refused (naming the field) unless --force, and
 * SIGINT stops after the current step with a checkpoint that --resume continues from.
 */
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeBackends, readSafetensors } from '@distillery/core';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'packages', 'cli', 'dist', 'bin.js');
const preload = join(import.meta.dirname, 'fixtures', 'resume', 'kill-at.mjs');
const nativeReady = (await probeBackends()).some((p) => p.name === 'native' && p.available);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw config JSON, patched freely (invalid values included, to test the errors)
type RawConfig = Record<string, any>;

function writeConfig(dir: string, backend: string, patch: (c: RawConfig) => void = () => undefined): string {
  const cfg: RawConfig = {
    task: {
      data: { type: 'spam-assassin', testFraction: 0.2, validationFraction: 0.1, maxExamples: 1200 },
      batchSize: 64,
      features: 256,
    },
    teacher: {
      model: { type: 'mlp', hidden: [32], dropout: 0.2 },
      training: { numEpochs: 2, seed: 42, optimizer: { type: 'adamw', lr: 0.003 } },
    },
    student: { model: { type: 'mlp', hidden: [8], dropout: 0.1 } },
    training: {
      numSteps: 40,
      gradientAccumulationSteps: 2,
      ckptSteps: 10,
      evaluateEvery: 5,
      saveTotalLimit: 2,
      earlyStopping: { patience: 3, minDelta: 0.001 },
      lrScheduler: { type: 'linear', warmupSteps: 4 },
      seed: 42,
      outputDir: join(dir, 'run'),
      backend,
      optimizer: { type: 'adamw', lr: 0.01 },
    },
    distillation: { temperature: 4, hardLabelWeight: 0.5 },
  };
  patch(cfg);
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

/** The child's environment: this one without vitest's variables (they change how tfjs loads). */
const childEnv = (extra: Record<string, string> = {}) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST'))),
  ...extra,
});

function distill(file: string, args: string[] = [], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', preload, bin, 'distill', file, '--no-progress', ...args], {
    env: childEnv(env),
    encoding: 'utf8',
  });
  return { status: r.status, signal: r.signal, out: r.stdout + r.stderr };
}

type Step = { globalStep: number; loss: number; losses: Record<string, number> };
const stepsOf = (dir: string): Step[] =>
  readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((m) => m.type === 'step');

async function maxAbsDiff(a: string, b: string): Promise<number> {
  const [fa, fb] = [await readSafetensors(a), await readSafetensors(b)];
  expect([...fa.tensors.keys()].sort()).toEqual([...fb.tensors.keys()].sort());
  let max = 0;
  for (const [k, t] of fa.tensors) {
    const u = fb.tensors.get(k)!;
    for (let i = 0; i < t.data.length; i++) max = Math.max(max, Math.abs(Number(t.data[i]) - Number(u.data[i])));
  }
  return max;
}

/** The resumed run must match the reference: weights, losses at every step, every step once. */
async function expectSameRun(ref: string, dir: string): Promise<void> {
  expect(
    await maxAbsDiff(join(ref, 'run', 'final', 'model.safetensors'), join(dir, 'run', 'final', 'model.safetensors')),
  ).toBeLessThanOrEqual(1e-6);
  const [a, b] = [stepsOf(ref), stepsOf(dir)];
  expect(b.map((s) => s.globalStep)).toEqual(a.map((s) => s.globalStep)); // no step duplicated or missing
  expect(b.map((s) => [s.loss, s.losses])).toEqual(a.map((s) => [s.loss, s.losses]));
  const sa = JSON.parse(readFileSync(join(ref, 'run', 'summary.json'), 'utf8'));
  const sb = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
  expect(sb.student.accuracy).toBe(sa.student.accuracy);
  expect(sb.student.selected).toEqual(sa.student.selected);
}

for (const backend of ['cpu', 'native'] as const) {
  const cases: Record<string, string>[] =
    backend === 'cpu'
      ? [
          { KILL_AT_TEACHER_STEP: '20' },
          { KILL_AT_STEP: '3' },
          { KILL_AT_STEP: '13' },
          { KILL_IN_CHECKPOINT: '20' },
          { KILL_AT_STEP: '27' },
        ]
      : [{ KILL_AT_STEP: '13' }, { KILL_IN_CHECKPOINT: '10' }];
  describe.skipIf(backend === 'native' && !nativeReady)(`kill -9 and --resume on the ${backend} backend`, () => {
    const ref = mkdtempSync(join(tmpdir(), `distillery-resume-ref-${backend}-`));
    it('the uninterrupted reference run completes', () => {
      const r = distill(writeConfig(ref, backend));
      expect(r.status, r.out).toBe(0);
      expect(existsSync(join(ref, 'run', 'final', 'model.safetensors'))).toBe(true);
    }, 120_000);

    for (const env of cases) {
      it(`killed with ${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join()} and resumed: same weights, losses and metrics`, async () => {
        const dir = mkdtempSync(join(tmpdir(), `distillery-resume-${backend}-`));
        const file = writeConfig(dir, backend);
        const killed = distill(file, [], env);
        expect(killed.signal, killed.out).toBe('SIGKILL');
        if (env.KILL_IN_CHECKPOINT) {
          // The interrupted write left a temp folder, never a partial checkpoint-<k>; earlier ones are intact.
          const names = readdirSync(join(dir, 'run'));
          expect(names).not.toContain(`checkpoint-${env.KILL_IN_CHECKPOINT}`);
          expect(names.some((n) => n.startsWith(`.checkpoint-${env.KILL_IN_CHECKPOINT}.`))).toBe(true);
        }
        const resumed = distill(file, ['--resume']);
        expect(resumed.status, resumed.out).toBe(0);
        expect(readdirSync(join(dir, 'run')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
        await expectSameRun(ref, dir);
      }, 180_000);
    }
  });
}

describe('resume guards and signals', () => {
  it('refuses a changed config naming the field, accepts it with --force, and resumes from an explicit folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-cfg-'));
    const file = writeConfig(dir, 'cpu');
    expect(distill(file, [], { KILL_AT_STEP: '12' }).signal).toBe('SIGKILL');
    writeConfig(dir, 'cpu', (c) => (c.training.optimizer.lr = 0.02));
    const refused = distill(file, ['--resume']);
    expect(refused.status).toBe(1);
    expect(refused.out).toMatch(/training\.optimizer\.lr: 0\.01 → 0\.02/);
    expect(refused.out).toMatch(/--force/);
    const explicit = distill(file, ['--resume', join(dir, 'run', 'checkpoint-10'), '--force']);
    expect(explicit.status, explicit.out).toBe(0);
    const metrics = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.find((m) => m.type === 'resume')?.globalStep).toBe(10);
  }, 120_000);

  it('SIGINT stops after the current step with a checkpoint and the summary so far; --resume finishes the same run', async () => {
    const long = (c: RawConfig) => {
      c.training.numSteps = 240;
      delete c.training.earlyStopping;
      c.training.evaluateEvery = 40;
    };
    const ref = mkdtempSync(join(tmpdir(), 'distillery-sigint-ref-'));
    expect(distill(writeConfig(ref, 'cpu', long)).status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'distillery-sigint-'));
    const file = writeConfig(dir, 'cpu', long);
    const child = spawn(process.execPath, [bin, 'distill', file, '--no-progress'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(),
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const metrics = join(dir, 'run', 'metrics.jsonl');
    const started = Date.now();
    while (!(existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"globalStep":20,'))) {
      if (Date.now() - started > 60_000) throw new Error(`no step 20 within 60 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, out).toBe(130);
    expect(out).toMatch(/INTERRUPTED during the student run at step (\d+)/);
    const step = Number(/at step (\d+)/.exec(out)![1]);
    expect(existsSync(join(dir, 'run', `checkpoint-${step}`, 'state.json'))).toBe(true);
    const resumed = distill(file, ['--resume']);
    expect(resumed.status, resumed.out).toBe(0);
    await expectSameRun(ref, dir);
  }, 240_000);

  it('a second SIGINT exits at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-sigint2-'));
    const file = writeConfig(dir, 'cpu', (c) => {
      c.training.numSteps = 100000;
      delete c.training.earlyStopping;
    });
    const child = spawn(process.execPath, [bin, 'distill', file, '--no-progress'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(),
    });
    let out = '';
    child.stderr.on('data', (d) => (out += d));
    const metrics = join(dir, 'run', 'metrics.jsonl');
    const started = Date.now();
    while (!(existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"type":"step"'))) {
      if (Date.now() - started > 60_000) throw new Error(`no step within 60 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGINT');
    expect(await exited, out).toBe(130);
    expect(out).toMatch(/SIGINT again: exiting now/);
  }, 120_000);
});
