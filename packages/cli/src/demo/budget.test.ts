import { describe, it, expect } from 'vitest';
import { loadJobConfig } from '../commands/validate.js';
import { defaultConfigPath } from '../default-config.js';
import { applyBudget, chooseBudget } from './budget.js';
import { teacherCacheKey } from './cache.js';

describe('demo budget and teacher cache key', () => {
  it('native runs the config; wasm/cpu get the reduced budget, said with the reason', async () => {
    expect(chooseBudget('native').kind).toBe('full');
    const slow = chooseBudget('wasm');
    expect(slow.kind).toBe('reduced');
    expect(slow.reason).toMatch(/wasm backend is several times slower .*libopenblas-dev.*smaller budget/);
    const { config } = await loadJobConfig(defaultConfigPath(), { pathsFrom: 'cwd' });
    const cfg = applyBudget(config, slow);
    expect(cfg.task.data).toMatchObject({ maxExamples: 3000 });
    expect(cfg.training.numEpochs).toBe(1);
    expect(cfg.teacher.training?.numEpochs).toBe(2);
    expect(config.training.numEpochs).toBe(2); // the original is untouched
  });

  it('the cache key changes with the teacher or the data, not with the student', async () => {
    const { config } = await loadJobConfig(defaultConfigPath(), { pathsFrom: 'cwd' });
    const k = teacherCacheKey(config);
    expect(k).toMatch(/^[0-9a-f]{12}$/);
    expect(teacherCacheKey({ ...config, student: { model: { type: 'mlp', hidden: [2], dropout: 0 } } })).toBe(k);
    expect(teacherCacheKey(applyBudget(config, chooseBudget('wasm')))).not.toBe(k);
  });
});
