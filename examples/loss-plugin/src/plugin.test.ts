import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createLogger, createRegistry, silentLogger } from '@distillery/core';
import { runCases, matchLossHandler } from '@distillery/conformance';
import { mlpDemoConfigPath, loadJobConfig, runJob } from '@distillery/cli';
import pkg from '../package.json' with { type: 'json' };

describe('third-party loss plugin package', () => {
  it('is an npm package with discoverable keywords and peer dependencies on core and tfjs-core', () => {
    expect(pkg.keywords).toContain('distillery-plugin');
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['@distillery/core', '@tensorflow/tfjs-core']);
    expect(pkg).not.toHaveProperty('dependencies');
  });

  it('loads by package name (as a config\'s "plugins" does) and passes its own conformance cases', async () => {
    await tf.setBackend('cpu');
    const registry = await createRegistry({ plugins: ['distillery-plugin-hidden-l1'], logger: silentLogger });
    expect(registry.get('match-loss', 'hidden_l1').meta.package).toBe('distillery-plugin-hidden-l1');
    expect(registry.get('match-loss', 'hidden_smooth_l1').meta.package).toBe('distillery-plugin-hidden-l1');
    const report = await runCases(join(import.meta.dirname, '..', 'cases.json'), {
      registry,
      handlers: { hidden_l1: matchLossHandler('hidden_l1'), hidden_smooth_l1: matchLossHandler('hidden_smooth_l1') },
    });
    expect(report.failures).toEqual([]);
    expect(report.passed).toBe(5);
  });

  it('names a bad option with the fix', async () => {
    await tf.setBackend('cpu');
    const registry = await createRegistry({ plugins: ['distillery-plugin-hidden-l1'], logger: silentLogger });
    const p = registry.get('match-loss', 'hidden_smooth_l1');
    const x = tf.zeros([1, 2, 2]);
    expect(() =>
      p.compute({ stateS: x, stateT: x, options: { beta: 0 }, where: 'intermediateMatches[0]' }, registry.context(p)),
    ).toThrow(/intermediateMatches\[0\].options.beta/);
    x.dispose();
  });

  it('trains a distillation job whose config loads the package by name and uses its losses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loss-plugin-'));
    const cfg = JSON.parse(readFileSync(mlpDemoConfigPath(), 'utf8'));
    delete cfg.$schema;
    Object.assign(cfg.task.data, { maxExamples: 300 });
    cfg.task.features = 128;
    cfg.teacher.model.hidden = [32];
    cfg.teacher.training.numEpochs = 1;
    cfg.student.model.hidden = [8];
    cfg.training = { ...cfg.training, numEpochs: 1, outputDir: join(dir, 'run'), backend: 'cpu' };
    cfg.plugins = ['distillery-plugin-hidden-l1'];
    cfg.distillation.intermediateMatches = [
      { layerT: 0, layerS: 0, feature: 'hidden', loss: 'hidden_l1', weight: 1, proj: ['linear', 8, 32] },
      {
        layerT: 0,
        layerS: 0,
        feature: 'hidden',
        loss: 'hidden_smooth_l1',
        weight: 0.5,
        proj: ['linear', 8, 32],
        options: { beta: 0.5 },
      },
    ];
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(cfg));
    const { config, text } = await loadJobConfig(file);
    await runJob(config, 'distill', {
      logger: createLogger('t', { level: 'warn' }),
      progress: false,
      configFile: file,
      configText: text,
    });
    const steps = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'step');
    expect(Object.keys(steps.at(-1).losses)).toEqual(
      expect.arrayContaining(['unweighted_hidden_hidden_l1_0_0', 'unweighted_hidden_hidden_smooth_l1_0_0']),
    );
  });
});
