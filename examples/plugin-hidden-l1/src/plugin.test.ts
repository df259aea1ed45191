import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createRegistry, silentLogger } from '@distillery/core';
import { runCases, matchLossHandler } from '@distillery/conformance';

describe('third-party plugin package', () => {
  it('loads by package name (as a config\'s "plugins" does) and passes its own conformance cases', async () => {
    await tf.setBackend('cpu');
    const registry = await createRegistry({ plugins: ['@distillery/example-plugin-hidden-l1'], logger: silentLogger });
    expect(registry.get('match-loss', 'hidden_l1').meta.package).toBe('@distillery/example-plugin-hidden-l1');
    const report = await runCases(join(import.meta.dirname, '..', 'cases.json'), { registry, handlers: { hidden_l1: matchLossHandler('hidden_l1') } });
    expect(report.failures).toEqual([]);
    expect(report.passed).toBe(2);
  });
});
