import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@distillery/core';
import { loadJobConfig } from '../commands/validate.js';
import { mlpDemoConfigPath } from '../default-config.js';
import { formatSummary, runJob } from './run.js';
import { formatGain, kdGain, meanStd } from './baseline.js';
import { gainHtml } from '../commands/report.js';

describe('KD gain', () => {
  it('is the per-seed accuracy difference in points, mean ± sample std', () => {
    const g = kdGain([1, 2, 3], [0.7, 0.72, 0.74], [0.6, 0.7, 0.75]);
    expect(g.gain.map((x) => Number(x.toFixed(6)))).toEqual([10, 2, -1]);
    expect(g.mean).toBeCloseTo(11 / 3);
    expect(g.std).toBeCloseTo(meanStd([10, 2, -1]).std);
    expect(meanStd([10, 2, -1]).std).toBeCloseTo(
      Math.sqrt(((10 - 11 / 3) ** 2 + (2 - 11 / 3) ** 2 + (-1 - 11 / 3) ** 2) / 2),
    );
    expect(g.wins).toBe(2);
    expect(formatGain(g)).toMatch(/^\+3\.67 ± 5\.69 points over 3 seeds on test .*KD better in 2\/3/);
  });

  it('carries the validation comparison (where configurations are chosen) beside the test one', () => {
    const g = kdGain([1, 2], [0.7, 0.72], [0.6, 0.7], { distilled: [0.8, 0.81], baseline: [0.79, 0.82] });
    expect(g.mean).toBeCloseTo(6);
    expect(g.validation!.gain.map((x) => Number(x.toFixed(6)))).toEqual([1, -1]);
    expect(g.validation!.wins).toBe(1);
    expect(formatGain(g)).toMatch(
      /on test \(.*KD better in 2\/2\); validation \+0\.00 ± 1\.41 \(.*KD better in 1\/2\)$/,
    );
  });

  it('distill --baseline trains the no-KD student per seed (teacher cache on, validation split) and writes the gain to summary.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-baseline-'));
    const cfg = JSON.parse(readFileSync(mlpDemoConfigPath(), 'utf8'));
    delete cfg.$schema;
    Object.assign(cfg.task.data, { maxExamples: 400, validationFraction: 0.2 });
    // The later seeds' distillers get the job's cache (they used to fail: a cache without row keys).
    cfg.distillation.teacherCache = true;
    cfg.task.features = 128;
    cfg.teacher.model.hidden = [16];
    cfg.teacher.training.numEpochs = 2;
    cfg.teacher.training.optimizer.lr = 0.005;
    cfg.training.numEpochs = 1;
    cfg.training.optimizer.lr = 0.02;
    cfg.training.outputDir = join(dir, 'run');
    cfg.training.backend = 'cpu';
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(cfg));
    const { config, text } = await loadJobConfig(file);
    const s = await runJob(config, 'distill', {
      logger: createLogger('t', { level: 'warn' }),
      progress: false,
      configFile: file,
      configText: text,
      baseline: { seeds: 2 },
    });
    expect(s.baseline!.seeds).toHaveLength(2);
    expect(s.baseline!.distilled[0]).toBe(s.student!.accuracy);
    for (const a of [...s.baseline!.distilled, ...s.baseline!.baseline]) expect(a).toBeGreaterThan(0.5);
    // Compared on validation too, the first seed's value being the job's selected checkpoint's.
    expect(s.baseline!.validation!.distilled[0]).toBe(s.student!.selected!.value);
    for (const a of [...s.baseline!.validation!.distilled, ...s.baseline!.validation!.baseline])
      expect(a).toBeGreaterThan(0.5);
    const written = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
    expect(written.baseline.mean).toBeCloseTo(s.baseline!.mean);
    expect(formatSummary(s)).toMatch(/KD gain: [+-]\d/);
    expect(gainHtml([join(dir, 'run', 'summary.json')])).toContain('Did distillation help?');
    expect(() => gainHtml([join(dir, 'nope.json')])).toThrow(/--baseline/);
  });
});
