import { describe, it, expect } from 'vitest';
import { PluginRegistry, definePluginPackage } from './registry.js';
import type { WeightSchedulerPlugin } from './types.js';
import { silentLogger } from '../util/logger.js';

const lin: WeightSchedulerPlugin = {
  meta: { name: 'linear_decay', version: '1.0.0', kind: 'weight-scheduler' },
  schedule: (x) => 1 - x,
};

describe('PluginRegistry', () => {
  it('registers, resolves through the container, and suggests the nearest name', () => {
    const r = new PluginRegistry({ logger: silentLogger });
    r.use(definePluginPackage({ name: 'pkg', version: '1.0.0', plugins: () => [lin] }));
    expect(r.get('weight-scheduler', 'linear_decay').schedule(0.25)).toBe(0.75);
    expect(r.list('weight-scheduler').map((p) => p.meta.name)).toEqual(['linear_decay']);
    expect(() => r.get('weight-scheduler', 'linear_decy', 'distillation.kdLossWeightScheduler')).toThrow(
      /distillation\.kdLossWeightScheduler: unknown weight-scheduler plugin "linear_decy"[\s\S]*did you mean "linear_decay"/,
    );
  });
  it('freezes', () => {
    const r = new PluginRegistry({ logger: silentLogger }).freeze();
    expect(() => r.register(lin)).toThrow(/frozen/);
  });
  it('child registries inherit plugins and freeze independently', () => {
    const r = new PluginRegistry({ logger: silentLogger }).register(lin);
    const c = r.child().freeze();
    expect(c.get('weight-scheduler', 'linear_decay')).toBeDefined();
    expect(() => r.register({ ...lin, meta: { ...lin.meta, name: 'other' } })).not.toThrow();
  });
  it('rejects malformed plugins and name conflicts', () => {
    const r = new PluginRegistry({ logger: silentLogger }).register(lin);
    expect(() => r.register(lin as never)).not.toThrow(); // same object twice is fine
    expect(() => r.register({ ...lin })).toThrow(/already registered/);
    expect(() => r.register({ meta: { name: 'x', version: '1', kind: 'weight-schedulr' } } as never)).toThrow(
      /did you mean "weight-scheduler"/,
    );
  });
});
