import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_PREFERENCE, activeBackend, initBackend, probeBackends } from './select.js';

const lines: string[] = [];
const logger = { info: (m: string) => void lines.push(m) };

afterEach(() => {
  delete process.env.DISTILLERY_BACKEND;
  lines.length = 0;
});

describe('initBackend', () => {
  it('probes every known backend, with wasm and cpu always available', async () => {
    const probes = await probeBackends();
    expect(probes.map((p) => p.name)).toEqual([...BACKEND_PREFERENCE]);
    expect(probes.find((p) => p.name === 'wasm')?.available).toBe(true);
    expect(probes.find((p) => p.name === 'cpu')?.available).toBe(true);
    for (const p of probes) expect(p.detail.length).toBeGreaterThan(0);
  });

  it('picks the fastest available backend and logs exactly one line; idempotent', async () => {
    const probes = await probeBackends();
    const fastest = probes.find((p) => p.available)!.name;
    const name = await initBackend({ logger });
    expect(name).toBe(fastest);
    expect(tf.getBackend()).toBe(fastest);
    expect(activeBackend()).toBe(fastest);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`tfjs backend: ${fastest}`);
    expect(await initBackend({ logger })).toBe(fastest);
    expect(lines).toHaveLength(1);
  });

  it('honours DISTILLERY_BACKEND and the backend option (option wins)', async () => {
    process.env.DISTILLERY_BACKEND = 'cpu';
    expect(await initBackend({ logger })).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend({ backend: 'wasm', logger })).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(lines.map((l) => l.split(' (')[0])).toEqual(['tfjs backend: cpu', 'tfjs backend: wasm']);
  });

  it('rejects unknown and unavailable backends, listing what is available', async () => {
    await expect(initBackend({ backend: 'gpu-magic', logger })).rejects.toThrow(
      /unknown tfjs backend "gpu-magic"[\s\S]*available here: .*wasm, cpu/,
    );
    const probes = await probeBackends();
    const missing = probes.find((p) => !p.available);
    if (missing) {
      await expect(initBackend({ backend: missing.name, logger })).rejects.toThrow(
        new RegExp(`"${missing.name}" is not available[\\s\\S]*available here:`),
      );
    }
  });

  it('makes gradients and the gather gradient work on the selected backend', async () => {
    await initBackend({ backend: 'wasm', logger });
    const table = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d([2, 2, 0], 'int32'))))(table);
    expect(Array.from(await g.data())).toEqual([1, 1, 0, 0, 2, 2]);
  });
});
