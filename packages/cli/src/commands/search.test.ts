import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@distillery/core';
import { mlpDemoConfigPath } from '../default-config.js';
import { searchCommand } from './search.js';
import { applySearchParams, objectiveOf } from '../job/search-params.js';

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _e, cb) {
      w.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

describe('distillery search', () => {
  it('maps short names onto the config (snake_case kept) and prefers a validation metric', () => {
    const raw = {
      distillation: { hard_label_weight: 0.1, temperature: 4 },
      training: { numSteps: 10, optimizer: { lr: 1e-3 } },
    };
    const out = applySearchParams(raw, {
      alpha: 0.7,
      temperature: 2,
      numEpochs: 3,
      lr: 5e-4,
      'training.optimizer.weightDecay': 0.01,
    });
    expect(out).toEqual({
      distillation: { hard_label_weight: 0.7, temperature: 2 },
      training: { numEpochs: 3, optimizer: { lr: 5e-4, weightDecay: 0.01 } },
    });
    expect(raw.distillation.hard_label_weight).toBe(0.1); // a copy
    expect(() => applySearchParams(raw, { temprature: 1 })).toThrow(/did you mean "temperature"/);
    expect(objectiveOf({ student: { accuracy: 0.5, validationAccuracy: 0.6 } })).toEqual({
      value: 0.6,
      metric: 'student.validationAccuracy',
    });
    expect(objectiveOf({ student: { accuracy: 0.5 } }).metric).toBe('student.accuracy');
    // distill's selected checkpoint carries its validation accuracy: trials rank on it, not on test.
    expect(
      objectiveOf({
        student: {
          accuracy: 0.5,
          selected: { kind: 'best', step: 9, metric: 'accuracy', value: 0.7, split: 'validation' },
        },
      }),
    ).toEqual({ value: 0.7, metric: 'student.selected.value' });
    expect(
      objectiveOf({
        student: {
          accuracy: 0.5,
          selected: { kind: 'best', step: 9, metric: 'loss', value: 0.3, split: 'validation' },
        },
      }).metric,
    ).toBe('student.accuracy');
  });

  it('runs trials, writes the study and the best config, and resumes to the requested total', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-search-'));
    const cfg = JSON.parse(readFileSync(mlpDemoConfigPath(), 'utf8'));
    delete cfg.$schema;
    Object.assign(cfg.task.data, { maxExamples: 300 });
    cfg.task.features = 128;
    cfg.teacher.model.hidden = [16];
    cfg.teacher.training.numEpochs = 1;
    cfg.training.optimizer.lr = 0.02;
    cfg.training.outputDir = join(dir, 'run');
    cfg.training.backend = 'cpu';
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(cfg));
    const logger = createLogger('t', { level: 'warn' });
    const out = sink();
    const r = await searchCommand({
      config: file,
      trials: 3,
      space: 'alpha=0..1,temperature=1..20,numEpochs=1..2',
      logger,
      stdout: out,
    });
    expect(r.trials.filter((t) => t.state !== 'running')).toHaveLength(3);
    expect(r.studyFile).toBe(join(dir, 'run', 'search', 'study.json'));
    const best = JSON.parse(readFileSync(r.configFile, 'utf8'));
    expect(r.configFile).toBe(join(dir, 'config.best.json'));
    expect(best.distillation.hardLabelWeight).toBe(r.best.params.alpha);
    expect(best.distillation.temperature).toBe(r.best.params.temperature);
    expect(best.training.numEpochs).toBe(r.best.params.numEpochs);
    expect(out.text).toMatch(/best: trial \d+, \d+\.\d+ %/);
    // Resume: only the missing trial runs.
    const again = await searchCommand({
      config: file,
      trials: 4,
      space: 'alpha=0..1,temperature=1..20,numEpochs=1..2',
      logger,
      stdout: sink(),
    });
    expect(again.trials).toHaveLength(4);
    expect(again.trials.slice(0, 3)).toEqual(r.trials);
    await expect(
      searchCommand({ config: file, trials: 4, space: 'alpha=0..1', logger, stdout: sink() }),
    ).rejects.toThrow(/another search space/);
  });
});
