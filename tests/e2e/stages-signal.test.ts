/**
 * Issue 17, staged runs and signals, through the real `distillery` bin in a child process: a SIGTERM in the middle
 * of stage 2 of a `--no-progress` staged run stops it after the current step of stage 2 (not at the end of the stage,
 * or never), with a checkpoint in stage-1/, exit code 130 and the stage named; `--resume` continues stage 2 from that
 * checkpoint and ends with the same weights as an uninterrupted run. The stage has no intermediate checkpoints or
 * evaluations: nothing but the signal can stop it early.
 */
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '@distillery/core';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'packages', 'cli', 'dist', 'bin.js');
const STAGE2_STEPS = 800;

function writeConfig(dir: string): string {
  const cfg = {
    task: { data: { type: 'spam-assassin', testFraction: 0.2, maxExamples: 600 }, batchSize: 32, features: 128 },
    teacher: {
      model: { type: 'mlp', hidden: [16, 16] },
      training: { numEpochs: 1, seed: 42, optimizer: { type: 'adamw', lr: 0.003 } },
    },
    student: { model: { type: 'mlp', hidden: [16, 16], dropout: 0.1 } },
    training: {
      seed: 42,
      outputDir: join(dir, 'run'),
      backend: 'cpu',
      optimizer: { type: 'adamw', lr: 0.003 },
      lrScheduler: { type: 'linear', warmupSteps: 2 },
    },
    distillation: {
      temperature: 2,
      stages: [
        {
          name: 'lower',
          numSteps: 4,
          kdLossWeight: 0,
          intermediateMatches: [{ layerT: 0, layerS: 0, feature: 'hidden', loss: 'hidden_mse', weight: 1 }],
        },
        {
          name: 'deeper',
          numSteps: STAGE2_STEPS,
          kdLossWeight: 0,
          freeze: ['layers.0'],
          intermediateMatches: [{ layerT: 1, layerS: 1, feature: 'hidden', loss: 'hidden_mse', weight: 1 }],
        },
        { name: 'logits', numSteps: 4, kdLossWeight: 1, hardLabelWeight: 0.5 },
      ],
    },
  };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

/** The child's environment: this one without vitest's variables (they change how tfjs loads). */
const childEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
const distill = (file: string, args: string[] = []) => {
  const r = spawnSync(process.execPath, [bin, 'distill', file, '--no-progress', ...args], {
    env: childEnv(),
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout + r.stderr };
};

async function maxAbsDiff(a: string, b: string): Promise<number> {
  const [fa, fb] = [await readSafetensors(a), await readSafetensors(b)];
  let max = 0;
  for (const [k, t] of fa.tensors) {
    const u = fb.tensors.get(k)!;
    for (let i = 0; i < t.data.length; i++) max = Math.max(max, Math.abs(Number(t.data[i]) - Number(u.data[i])));
  }
  return max;
}

describe('SIGTERM in a staged run', () => {
  it('stops inside stage 2 with a checkpoint there; --resume continues stage 2 and ends as an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-stages-sigterm-'));
    const file = writeConfig(dir);
    const child = spawn(process.execPath, [bin, 'distill', file, '--no-progress'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(),
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const metrics = join(dir, 'run', 'stage-1', 'metrics.jsonl');
    const started = Date.now();
    while (!(existsSync(metrics) && readFileSync(metrics, 'utf8').includes('"type":"step"'))) {
      if (Date.now() - started > 90_000) throw new Error(`stage 2 did not start within 90 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000))]);
    if (code === 'timeout') child.kill('SIGKILL');
    expect(code, `the staged run did not stop within 60 s of SIGTERM:\n${out}`).toBe(130);
    const m = /INTERRUPTED during the student run at step \d+ \(stage 2, "deeper", at its step (\d+)\)/.exec(out);
    expect(m, out).not.toBeNull();
    const step = Number(m![1]);
    // Stopped well inside stage 2 (the signal came at its first logged step), never at its end or in stage 3.
    expect(step).toBeLessThan(STAGE2_STEPS / 2);
    expect(existsSync(join(dir, 'run', 'stage-1', `checkpoint-${step}`, 'state.json'))).toBe(true);
    expect(existsSync(join(dir, 'run', 'stage-2'))).toBe(false);
    expect(
      JSON.parse(readFileSync(join(dir, 'run', 'stages.json'), 'utf8')).done.map((d: { index: number }) => d.index),
    ).toEqual([0]);

    const resumed = distill(file, ['--resume']);
    expect(resumed.status, resumed.out).toBe(0);
    const events = readFileSync(metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.find((e) => e.type === 'resume')?.globalStep).toBe(step);
    expect(readdirSync(join(dir, 'run', 'stage-0')).filter((n) => n.startsWith('checkpoint-'))).toEqual([
      'checkpoint-4',
    ]);

    const ref = mkdtempSync(join(tmpdir(), 'distillery-stages-sigterm-ref-'));
    const full = distill(writeConfig(ref));
    expect(full.status, full.out).toBe(0);
    expect(
      await maxAbsDiff(join(ref, 'run', 'final', 'model.safetensors'), join(dir, 'run', 'final', 'model.safetensors')),
    ).toBeLessThanOrEqual(1e-6);
  }, 300_000);
});
