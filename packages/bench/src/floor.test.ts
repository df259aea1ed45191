import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { sharedPath } from '@distillery/core';
import { main } from './cli.js';
import { setupBackend } from './bench.js';
import { loadBenchConfig, type BenchArch, type BenchConfig } from './config.js';
import { productFlops, stepProducts, type FloorResult } from './floor.js';

const tinyPath = fileURLToPath(new URL('../configs/bench-tiny.json', import.meta.url));
const tiny = loadBenchConfig(tinyPath);

/** The bench-standard sizes (shared/bench/bench-standard.json) on the tiny config's other fields. */
const standard: BenchConfig = {
  ...tiny,
  batch_size: 32,
  seq_len: 64,
  teacher: { num_hidden_layers: 6, hidden_size: 384, num_attention_heads: 6, intermediate_size: 1536 },
  student: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 },
  losses: { ...tiny.losses, hidden_mse: { ...tiny.losses.hidden_mse, proj: ['linear', 256, 384] } },
};

/**
 * FLOPs of one step counted another way: a linear layer's forward is 2·rows·|W|, its backward twice that (dX and
 * dW); attention is 2·L²·H per sequence and layer for each of its two forward products, four in the backward.
 */
function flopsByParams(cfg: BenchConfig): number {
  const rows = cfg.batch_size * cfg.seq_len;
  const encoder = (a: BenchArch) => {
    const h = a.hidden_size;
    const perLayer = 2 * rows * (4 * h * h + 2 * h * a.intermediate_size);
    const heads = 2 * 2 * cfg.batch_size * cfg.seq_len * cfg.seq_len * h; // q·kᵀ and probs·v, all heads
    const pooled = 2 * cfg.batch_size * (h * h + h * cfg.num_labels);
    return { linear: a.num_hidden_layers * perLayer + pooled, attention: a.num_hidden_layers * heads };
  };
  const t = encoder(cfg.teacher);
  const s = encoder(cfg.student);
  const [, pin, pout] = cfg.losses.hidden_mse.proj;
  const proj = 2 * rows * pin * pout;
  return t.linear + t.attention + 3 * s.linear + 3 * s.attention + 3 * proj;
}

describe('stepProducts: the matrix products of one train step', () => {
  it('counts the FLOPs of the bench-standard step (86.2 GFLOP) as a parameter count does', () => {
    const products = stepProducts(standard);
    const total = products.reduce((a, p) => a + productFlops(p), 0);
    expect(total).toBe(flopsByParams(standard));
    expect(total / 1e9).toBeCloseTo(86.19, 2);
    // The teacher runs forward only; more than half of the step's products are its own.
    const teacher = products.filter((p) => p.part === 'teacher').reduce((a, p) => a + productFlops(p), 0);
    expect(teacher / total).toBeCloseTo(0.5187, 3);
  });

  it('pairs every student and projection x·Wᵀ with its dX and dW, of the same FLOPs', () => {
    const products = stepProducts(standard);
    for (const f of products.filter((p) => p.what.endsWith('x·Wᵀ') && p.part !== 'teacher')) {
      const name = f.what.replace(' x·Wᵀ', '');
      const grads = products.filter((p) => p.what.startsWith(`${name} d`) && p.part !== 'teacher');
      expect(grads.map((g) => g.what.split(' ').slice(-3)[0])).toEqual(['dX', 'dW']);
      for (const g of grads) expect(productFlops(g)).toBe(productFlops(f));
    }
  });
});

describe('distill-bench --floor (tiny config, cpu backend)', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('times each product kind alone and puts their sum next to the measured step', async () => {
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const out = (await main(
      ['--config', tinyPath, '--backend', 'cpu', '--floor', '--reps', '2', '--steps', '2', '--warmup', '1'],
      (l) => lines.push(l),
    )) as FloorResult;
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual(out);
    expect(out).toMatchObject({
      framework: 'distillery',
      mode: 'floor',
      backend: 'cpu',
      config: 'bench-tiny',
      reps: 2,
    });
    expect(out.products).toHaveLength(stepProducts(tiny).length);
    const sum = out.products.reduce((a, p) => a + p.ms_each * p.count, 0);
    expect(out.products_floor_ms).toBeCloseTo(sum, 0);
    // A product of the tiny config can take well under a microsecond: each time is a time, their sum is positive.
    for (const p of out.products) expect(p.ms_each).toBeGreaterThanOrEqual(0);
    expect(out.products_floor_ms).toBeGreaterThan(0);
    expect(out.gflop.total).toBeCloseTo(flopsByParams(tiny) / 1e9, 2);
    expect(out.step_min_ms).toBeLessThanOrEqual(out.step_ms);
    expect(out.rest_ms).toBeCloseTo(out.step_ms - out.products_floor_ms, 1);
    expect(tf.memory().numTensors).toBe(before);
    await expect(main(['--config', tinyPath, '--backend', 'cpu', '--floor', '--reps', '0'], () => {})).rejects.toThrow(
      /--reps must be an integer >= 1, got "0"/,
    );
  });
});

const script = sharedPath('bench', 'torch_distill_bench.py');
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch)
  console.warn('torch_profile.py test skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch)');
if (!script) console.warn('torch_profile.py test skipped: shared/bench/torch_distill_bench.py not found');

describe.skipIf(!hasTorch || !script)('scripts/torch_profile.py (PyTorch, tiny config)', () => {
  it("prints PyTorch's step with its matrix products summed apart", () => {
    const py = fileURLToPath(new URL('../scripts/torch_profile.py', import.meta.url));
    const args = [
      py,
      '--script',
      script!,
      '--config',
      tinyPath,
      '--steps',
      '2',
      '--warmup',
      '1',
      '--profile-steps',
      '2',
    ];
    const r = spawnSync('/usr/bin/python3', args, { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim()) as Record<string, unknown> & { ops: { name: string }[] };
    expect(j).toMatchObject({ framework: 'pytorch', mode: 'profile', config: 'bench-tiny', profiled_steps: 2 });
    expect(j.products_ms as number).toBeGreaterThan(0);
    expect(j.products_share as number).toBeGreaterThan(0);
    expect(j.products_share as number).toBeLessThan(1);
    expect(j.ops.some((o) => o.name === 'aten::addmm')).toBe(true);
    const bad = spawnSync('/usr/bin/python3', [py, '--script', '/nonexistent.py'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--script: \/nonexistent\.py not found/);
  });
});
