import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { exampleConfig, runIntermediateMatches } from './index.js';

const teacherDir = sharedPath('models', 'clinc-bert-teacher');
const dataDir = sharedPath('data', 'clinc150');

describe('intermediate matches example', () => {
  it('its JSON config holds hidden MSE, cosine and attention matches with projections', () => {
    const c = exampleConfig({ teacherDir: '/t', dataDir: '/d' });
    expect(c.distillation.intermediateMatches.map((m) => m.loss)).toEqual(['hidden_mse', 'cos', 'attention_mse_sum']);
    expect(c.distillation.intermediateMatches.filter((m) => m.proj).length).toBe(2);
  });

  it.skipIf(!teacherDir || !dataDir)(
    `distils 3 steps and reports every term's contribution ${teacherDir ? '' : SHARED_SKIP_MESSAGE}`,
    async () => {
      const { contributions, summary } = await runIntermediateMatches({
        teacherDir: teacherDir!,
        dataDir: dataDir!,
        numSteps: 3,
        maxExamples: 64,
        outputDir: mkdtempSync(join(tmpdir(), 'im-')),
        logger: createLogger('t', { level: 'warn' }),
      });
      expect(contributions.map((c) => c.key)).toEqual([
        'unweighted_kd_loss',
        'unweighted_hard_label_loss',
        'unweighted_hidden_hidden_mse_2_4',
        'unweighted_hidden_cos_1_2',
        'unweighted_attention_attention_mse_sum_1_3',
      ]);
      for (const c of contributions) expect(Number.isFinite(c.weighted) && c.weighted >= 0).toBe(true);
      expect(contributions.reduce((a, c) => a + c.share, 0)).toBeCloseTo(1, 6);
      expect(summary.student!.parameters).toBeLessThan(1_000_000); // 2 layers x 128 (the teacher: 4 x 256)
    },
  );
});
