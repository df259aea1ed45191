import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  createRegistry,
  definePluginPackage,
  sharedPath,
  silentLogger,
  SHARED_SKIP_MESSAGE,
  type PluginRegistry,
  type KdLossPlugin,
} from '@distillery/core';
import {
  runCases,
  summaryLine,
  kdLossHandler,
  compareValues,
  loadCases,
  conformanceMain,
  type CaseFile,
} from './index.js';

let registry: PluginRegistry;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registry = await createRegistry({ logger: silentLogger });
});

const casesFile = sharedPath('reference', 'textbrewer-losses.json');

describe('conformance against the TextBrewer reference cases', () => {
  it.skipIf(!casesFile)(
    `runs the shared cases with 0 failures${casesFile ? '' : ` (${SHARED_SKIP_MESSAGE})`}`,
    async () => {
      const before = tf.memory().numTensors;
      const r = await runCases(casesFile!, { registry });
      const total = loadCases(casesFile!).cases.length;
      expect(r.failures.map((f) => `${f.name}: ${f.message}`)).toEqual([]);
      // Every case must run and pass: a case whose fn has no handler is a failure here, not a skip.
      expect(r.skippedNames, `cases without a handler (fn: ${r.skippedFns.join(', ')})`).toEqual([]);
      expect(r.failed).toBe(0);
      expect(r.passed).toBe(total);
      expect(summaryLine(r)).toBe(`${total} passed, 0 failed, 0 skipped`);
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});

describe('runner mechanics', () => {
  const file: CaseFile = {
    cases: [
      {
        name: 'a',
        fn: 'my_kd',
        args: {
          logits_S: { shape: [1, 2], dtype: 'float', data: [0, 0] },
          logits_T: { shape: [1, 2], dtype: 'float', data: [0, 0] },
          temperature: 1,
        },
        expected: Math.LN2,
      },
      {
        name: 'b',
        fn: 'my_kd',
        args: {
          logits_S: { shape: [1, 2], dtype: 'float', data: [0, 0] },
          logits_T: { shape: [1, 2], dtype: 'float', data: [0, 0] },
          temperature: 1,
        },
        expected: 0.5,
      },
      { name: 'c', fn: 'nobody_handles_this', args: {}, expected: 1 },
      { name: 'd', fn: 'kd_ce_loss', args: {}, expected: 1 },
    ],
  };
  it('dispatches on fn through custom handlers and plugins; counts failures and skips', async () => {
    const wrapped: KdLossPlugin = {
      meta: { name: 'my_kd', version: '1.0.0', kind: 'kd-loss' },
      compute: (input, ctx) => ctx.tf.mul<tf.Scalar>(registry.get('kd-loss', 'ce').compute(input, ctx), 1),
    };
    const r2 = registry
      .child(silentLogger)
      .use(definePluginPackage({ name: 'my-plugin', version: '1.0.0', plugins: () => [wrapped] }));
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

describe('command line: --strict (the default under CI=true)', () => {
  const file = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'conformance-strict-'));
    const p = join(dir, 'cases.json');
    const t = { shape: [1, 2], dtype: 'float', data: [0, 0] };
    writeFileSync(
      p,
      JSON.stringify({
        cases: [
          { name: 'handled', fn: 'kd_ce_loss', args: { logits_S: t, logits_T: t, temperature: 1 }, expected: Math.LN2 },
          { name: 'orphan', fn: 'no_handler_for_this', args: {}, expected: 1 },
        ],
      }),
    );
    return p;
  };
  const run = async (argv: string[], ci: string | undefined) => {
    const saved = process.env.CI;
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
    const out: string[] = [];
    try {
      const code = await conformanceMain(argv, { out: (l) => out.push(l), err: () => {} });
      return { code, out: out.join('\n') };
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  };
  it('a case without a handler fails the run under CI=true (and with --strict), is only reported otherwise', async () => {
    const p = file();
    const ci = await run([p], 'true');
    expect(ci.code).toBe(1);
    expect(ci.out).toMatch(/1 passed, 0 failed, 1 skipped/);
    expect(ci.out).toMatch(/FAIL: 1 case\(s\) have no handler.*no_handler_for_this/);
    expect((await run([p, '--strict'], undefined)).code).toBe(1);
    const local = await run([p], undefined);
    expect(local.code).toBe(0);
    expect(local.out).toMatch(/skipped \(no handler for no_handler_for_this\):\n {2}orphan/);
    rmSync(dirname(p), { recursive: true, force: true });
  });
});
