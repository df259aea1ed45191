import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { main, type CliOutput } from './cli.js';
import { setupBackend, type BenchResult } from './bench.js';
import type { OverheadResult, SoakResult } from './extras.js';

const tiny = fileURLToPath(new URL('../configs/bench-tiny.json', import.meta.url));

async function run(args: string[]): Promise<{ out: CliOutput; lines: string[] }> {
  const lines: string[] = [];
  const out = await main(['--config', tiny, '--backend', 'cpu', ...args], (l) => lines.push(l));
  return { out: out!, lines };
}

describe('distill-bench on a tiny config (cpu backend)', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('train: one JSON line with the PyTorch script fields, losses from the distiller', async () => {
    const before = tf.memory().numTensors;
    const { out, lines } = await run(['--steps', '2', '--warmup', '1']);
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]!) as BenchResult;
    expect(r).toEqual(out);
    expect(r.peakRssMB).toBeGreaterThan(0);
    expect(r.peak_tensor_bytes).toBeGreaterThan(0);
    for (const k of [
      'framework',
      'tfjs_version',
      'backend',
      'threads',
      'config',
      'mode',
      'batch_size',
      'seq_len',
      'warmup',
      'steps',
      'ms',
      'samples_per_s',
      'final_loss',
      'final_losses',
      'logits_checksum',
    ]) {
      expect(r).toHaveProperty(k);
    }
    expect(r).toMatchObject({
      framework: 'distillery',
      backend: 'cpu',
      config: 'bench-tiny',
      mode: 'train',
      driver: 'GeneralDistiller',
      batch_size: 2,
      seq_len: 8,
      warmup: 1,
      steps: 2,
      logits_checksum: null,
    });
    expect(r.ms.min).toBeLessThanOrEqual(r.ms.median);
    expect(r.ms.median).toBeLessThanOrEqual(r.ms.max);
    expect(r.samples_per_s).toBeGreaterThan(0);
    const l = r.final_losses!;
    // At initialisation KD and hard loss are near ln 10; the total is the sum of the weighted terms.
    expect(l.kd).toBeCloseTo(Math.log(10), 1);
    expect(l.hard_label).toBeCloseTo(Math.log(10), 0);
    expect(l.hidden_mse).toBeGreaterThan(0);
    expect(l.attention_mse_sum).toBeGreaterThanOrEqual(0);
    expect(r.final_loss!).toBeCloseTo(l.kd + l.hard_label + l.hidden_mse + l.attention_mse_sum, 4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('train-cached: the warm cache serves every step after the first, with the losses of the full step', async () => {
    const before = tf.memory().numTensors;
    const full = (await run(['--steps', '3', '--warmup', '1'])).out as BenchResult;
    const cached = (await run(['--mode', 'train-cached', '--steps', '3', '--warmup', '1'])).out as BenchResult;
    expect(cached).toMatchObject({ mode: 'train-cached', driver: 'GeneralDistiller', steps: 3 });
    // Same seeds, and the cache holds the teacher's own float32 outputs: the run is the same run.
    expect(cached.final_losses).toEqual(full.final_losses);
    expect(cached.final_loss).toBe(full.final_loss);
    expect(tf.memory().numTensors).toBe(before);
    await expect(run(['--mode', 'train-cached', '--steps', '2', '--warmup', '0'])).rejects.toThrow(/--warmup ≥ 1/);
    const p = (await run(['--mode', 'train-cached', '--steps', '1', '--warmup', '1', '--profile']))
      .out as BenchResult & {
      profile: { mode: string; kernel_calls: number };
    };
    expect(p.profile.mode).toBe('train-cached');
    expect(p.profile.kernel_calls).toBeGreaterThan(0);
  });

  it('inference modes report a logits checksum and no loss', async () => {
    for (const mode of ['teacher-infer', 'student-infer']) {
      const { out } = await run(['--mode', mode, '--steps', '2', '--warmup', '0']);
      const r = out as BenchResult;
      expect(r.mode).toBe(mode);
      expect(r.final_loss).toBeNull();
      expect(r.final_losses).toBeNull();
      expect(Number.isFinite(r.logits_checksum)).toBe(true);
    }
  });

  it('bare loop computes the same loss terms as the distiller at the first step', async () => {
    const d = (await run(['--steps', '1', '--warmup', '0'])).out as BenchResult;
    const b = (await run(['--steps', '1', '--warmup', '0', '--driver', 'bare'])).out as BenchResult;
    expect(b.driver).toBe('bare-tfjs');
    // Same models and batch; dropout and the projection init differ, so only roughly equal.
    expect(b.final_losses!.kd).toBeCloseTo(d.final_losses!.kd, 2);
    expect(b.final_losses!.hard_label).toBeCloseTo(d.final_losses!.hard_label, 1);
  });

  it('overhead and soak modes', async () => {
    const o = (await run(['--overhead', '--steps', '2', '--warmup', '0', '--rounds', '1'])).out as OverheadResult;
    expect(o.mode).toBe('overhead');
    expect(o.round_medians).toHaveLength(1);
    expect(Number.isFinite(o.overhead_pct)).toBe(true);
    const s = (await run(['--soak', '6'])).out as SoakResult;
    expect(s.mode).toBe('soak');
    expect([s.start.step, s.middle.step, s.end.step]).toEqual([1, 3, 6]);
    expect(s.tensors_flat).toBe(true);
    expect(s.tensors_after).toBe(s.tensors_before);
  });
});
