import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createRegistry, definePluginPackage, sharedPath, silentLogger, SHARED_SKIP_MESSAGE, type PluginRegistry, type KdLossPlugin } from '@distillery/core';
import { runCases, summaryLine, kdLossHandler, compareValues, type CaseFile } from './index.js';

let registry: PluginRegistry;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registry = await createRegistry({ logger: silentLogger });
});

const casesFile = sharedPath('reference', 'textbrewer-losses.json');

describe('conformance against the TextBrewer reference cases', () => {
  it.skipIf(!casesFile)(`runs the shared cases with 0 failures${casesFile ? '' : ` (${SHARED_SKIP_MESSAGE})`}`, async () => {
    const before = tf.memory().numTensors;
    const r = await runCases(casesFile!, { registry });
    expect(r.failures.map((f) => `${f.name}: ${f.message}`)).toEqual([]);
    expect(r.failed).toBe(0);
    expect(r.passed).toBeGreaterThanOrEqual(69);
    expect(summaryLine(r)).toMatch(/^\d+ passed, 0 failed, \d+ skipped$/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('runner mechanics', () => {
  const file: CaseFile = {
    cases: [
      { name: 'a', fn: 'my_kd', args: { logits_S: { shape: [1, 2], dtype: 'float', data: [0, 0] }, logits_T: { shape: [1, 2], dtype: 'float', data: [0, 0] }, temperature: 1 }, expected: Math.LN2 },
      { name: 'b', fn: 'my_kd', args: { logits_S: { shape: [1, 2], dtype: 'float', data: [0, 0] }, logits_T: { shape: [1, 2], dtype: 'float', data: [0, 0] }, temperature: 1 }, expected: 0.5 },
      { name: 'c', fn: 'nobody_handles_this', args: {}, expected: 1 },
      { name: 'd', fn: 'kd_ce_loss', args: {}, expected: 1 },
    ],
  };
  it('dispatches on fn through custom handlers and plugins; counts failures and skips', async () => {
    const wrapped: KdLossPlugin = {
      meta: { name: 'my_kd', version: '1.0.0', kind: 'kd-loss' },
      compute: (input, ctx) => ctx.tf.mul(registry.get('kd-loss', 'ce').compute(input, ctx), 1) as never,
    };
    const r2 = registry.child(silentLogger).use(definePluginPackage({ name: 'my-plugin', version: '1.0.0', plugins: () => [wrapped] }));
    const r = await runCases(file, { registry: r2, handlers: { my_kd: kdLossHandler('my_kd') } });
    expect([r.passed, r.failed, r.skipped]).toEqual([1, 2, 1]);
    expect(r.skippedNames).toEqual(['c']);
    expect(r.failures[0]!.message).toMatch(/got 0.69314.*expected 0.5/);
    expect(r.failures[1]!.message).toMatch(/threw: argument "logits_S" must be a tensor/);
  });
  it('compares tensors, lists and objects with a relative tolerance', () => {
    const t = { shape: [2], dtype: 'float', data: [1, 2] };
    expect(compareValues({ shape: [2], data: [1 + 5e-6, 2] }, t)).toBeUndefined();
    expect(compareValues({ shape: [2], data: [1 + 2e-5, 2] }, t)).toMatch(/element 0/);
    expect(compareValues({ shape: [1, 2], data: [1, 2] }, t)).toMatch(/shape \[1, 2\]/);
    expect(compareValues([1, { a: 2 }], [1, { a: 2 }])).toBeUndefined();
    expect(compareValues({ a: 1, b: 2 }, { a: 1 })).toMatch(/unexpected b/);
    expect(compareValues(NaN, 1)).toMatch(/got NaN/);
    expect(compareValues(0, 0)).toBeUndefined();
  });
});
