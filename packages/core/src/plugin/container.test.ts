/**
 * The DI container is the plugin store: lookups resolve through it, a run's child container scopes the
 * logger and step info, and registering another provider under a name token swaps a plugin for one run.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BUILTIN_PLUGIN_PACKAGES, PluginRegistry } from './registry.js';
import { LOGGER_TOKEN, PLUGIN_TOKENS, pluginToken } from './tokens.js';
import { createLogger, silentLogger, type LogRecord } from '../util/logger.js';
import { MlpClassifier, mlpAdaptor, type FeatureBatch } from '../model/mlp.model.js';
import { BasicDistiller } from '../distillers/basic-distiller.js';
import type { KdLossPlugin, StepInfo, WeightSchedulerPlugin } from './types.js';

const lin: WeightSchedulerPlugin = {
  meta: { name: 'linear_decay', version: '1.0.0', kind: 'weight-scheduler', aliases: ['lin'] },
  schedule: (x) => 1 - x,
};
const half: WeightSchedulerPlugin = {
  meta: { name: 'linear_decay', version: '2.0.0', kind: 'weight-scheduler' },
  schedule: () => 0.5,
};

describe('the container is the one plugin store', () => {
  it('registers every plugin as a provider under its kind token and each of its names', () => {
    const r = new PluginRegistry({ logger: silentLogger }).register(lin);
    expect(r.container.resolve(pluginToken('weight-scheduler', 'linear_decay'))).toBe(lin);
    expect(r.container.resolve(pluginToken('weight-scheduler', 'lin'))).toBe(lin);
    expect(r.container.resolveAll(PLUGIN_TOKENS['weight-scheduler'])).toEqual([lin]);
    expect(r.names('weight-scheduler')).toEqual(['lin', 'linear_decay']);
  });

  it('swaps a plugin in a child scope by registering another provider; the parent keeps its own', () => {
    const r = new PluginRegistry({ logger: silentLogger }).register(lin);
    const run = r.child();
    run.container.register(pluginToken('weight-scheduler', 'linear_decay'), { useFactory: () => half });
    expect(run.get('weight-scheduler', 'linear_decay').schedule(0.9)).toBe(0.5);
    expect(run.list('weight-scheduler')).toEqual([half]);
    expect(r.get('weight-scheduler', 'linear_decay').schedule(0.9)).toBeCloseTo(0.1);
    expect(r.list('weight-scheduler')).toEqual([lin]);
  });

  it('override replaces a plugin: lookups and listings resolve to the replacement only', () => {
    const r = new PluginRegistry({ logger: silentLogger }).register(lin);
    expect(() => r.register(half)).toThrow(/already registered \(by linear_decay@1\.0\.0\)/);
    r.child().register(half, { override: true }); // a child's override stays in the child
    expect(r.get('weight-scheduler', 'linear_decay')).toBe(lin);
    r.register(half, { override: true });
    expect(r.get('weight-scheduler', 'linear_decay')).toBe(half);
    expect(r.get('weight-scheduler', 'lin')).toBe(lin); // the alias was not overridden
    expect(r.list('weight-scheduler')).toEqual([half]); // one entry per canonical name
  });

  it('a child sees plugins its parent registers later, and adds its own without touching the parent', () => {
    const r = new PluginRegistry({ logger: silentLogger });
    const c = r.child();
    r.register(lin);
    expect(c.has('weight-scheduler', 'linear_decay')).toBe(true);
    c.register({ ...half, meta: { ...half.meta, name: 'constant' } });
    expect(c.names('weight-scheduler')).toEqual(['constant', 'lin', 'linear_decay']);
    expect(r.has('weight-scheduler', 'constant')).toBe(false);
  });

  it("a run's scope binds the logger to the plugin and provides the step", () => {
    const records: LogRecord[] = [];
    const r = new PluginRegistry({ logger: silentLogger }).register(lin);
    const run = r.child(createLogger('run', { level: 'debug', sink: (x) => records.push(x) }));
    expect(run.container.resolve(LOGGER_TOKEN)).toBe(run.logger);
    const ctx = run.context(lin);
    ctx.logger.info('hello');
    expect(records.map((x) => x.scope)).toEqual(['run:linear_decay']);
    expect(ctx.step).toBeUndefined();
    const s: StepInfo = { globalStep: 3, totalSteps: 10, epoch: 0, progress: 0.3 };
    run.setStep(s);
    expect(ctx.step).toEqual(s); // contexts read the scope's current step
    expect(r.context(lin).step).toBeUndefined(); // the parent's scope has none
    const explicit = { ...s, globalStep: 7 };
    expect(run.context(lin, explicit).step).toBe(explicit);
  });
});

describe('a run resolves its plugins through its child container', () => {
  let registry: PluginRegistry;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    registry = new PluginRegistry({ logger: silentLogger });
    await registry.load('@distillery/plugin-loss-kd');
  });

  it('BasicDistiller uses a kd-loss provider registered in its run scope, with that scope’s logger and steps', async () => {
    const data: FeatureBatch[] = Array.from({ length: 3 }, (_, k) => ({
      features: Float32Array.from({ length: 4 * 8 }, (_v, i) => Math.sin(i + k)),
      labels: Int32Array.from([0, 1, 0, 1]),
      batchSize: 4,
      dim: 8,
    }));
    const records: LogRecord[] = [];
    const run = registry.child(createLogger('run', { level: 'debug', sink: (x) => records.push(x) }));
    const ce = registry.get('kd-loss', 'ce');
    const steps: number[] = [];
    const fake: KdLossPlugin = {
      meta: { name: 'ce', version: '0.0.0', kind: 'kd-loss' },
      compute: (input, ctx) => {
        steps.push(ctx.step!.globalStep);
        ctx.logger.debug('fake ce');
        return ce.compute(input, ctx);
      },
    };
    run.container.register(pluginToken('kd-loss', 'ce'), { useFactory: () => fake });
    const teacher = new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2, seed: 1 });
    const student = new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2, seed: 2 });
    const d = new BasicDistiller({
      student,
      teacher,
      adaptorS: mlpAdaptor,
      adaptorT: mlpAdaptor,
      registry: run,
      trainingConfig: { numEpochs: 2, outputDir: mkdtempSync(join(tmpdir(), 'di-')) },
    });
    await d.train({ dataloader: data });
    expect(steps).toEqual([0, 1, 2, 3, 4, 5]);
    expect(records.filter((x) => x.msg === 'fake ce').map((x) => x.scope)).toEqual(Array(6).fill('run:ce'));
    // The shared registry still answers with the real plugin.
    expect(registry.get('kd-loss', 'ce')).toBe(ce);
    teacher.dispose();
    student.dispose();
  });
});

describe('the core declares the built-in plugin packages it loads', () => {
  const coreDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const pkg = JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  it.each(BUILTIN_PLUGIN_PACKAGES)('%s is a dependency of @distillery/core and resolves from it', (name) => {
    expect(pkg.dependencies).toHaveProperty(name);
    expect(() => createRequire(join(coreDir, 'package.json')).resolve(name)).not.toThrow();
  });
});
