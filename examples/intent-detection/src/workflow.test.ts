import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { runWorkflow } from './index.js';

const teacherDir = sharedPath('models', 'clinc-bert-teacher');
const dataDir = sharedPath('data', 'clinc150');

describe('intent-detection workflow', () => {
  it.skipIf(!teacherDir || !dataDir)(
    `runs every step on 64 examples and charts teacher, no-KD, KD, searched and int8 students ${teacherDir ? '' : SHARED_SKIP_MESSAGE}`,
    async () => {
      const work = mkdtempSync(join(tmpdir(), 'intent-'));
      const r = await runWorkflow({
        teacherDir: teacherDir!,
        dataDir: dataDir!,
        workDir: work,
        maxExamples: 64,
        numEpochs: 1,
        seeds: 2,
        trials: 2,
        space: 'alpha=0..1,temperature=1..20',
        latencyRuns: 5,
        throughputMs: 100,
        logger: createLogger('t', { level: 'warn' }),
      });
      expect(Object.keys(r.results.results)).toEqual([
        'teacher',
        'student (no KD)',
        'student (KD)',
        'student (searched)',
        'student (int8)',
      ]);
      for (const rec of Object.values(r.results.results)) expect(rec.n).toBe(64);
      // The bench of the distilled student agrees with the accuracy the training run reported.
      expect(r.results.results['student (KD)']!.accuracy).toBe(r.distilled.student!.accuracy);
      expect(r.results.results['student (no KD)']!.accuracy).toBe(r.gain.baseline[0]);
      expect(r.results.results['student (KD)']!.sizeMB).toBeLessThan(r.results.results.teacher!.sizeMB / 2);
      expect(r.gain.seeds).toHaveLength(2);
      // CLINC150 has a validation split: the gain is measured there too (configurations are chosen on it).
      expect(r.gain.validation!.distilled).toHaveLength(2);
      for (const a of [...r.gain.validation!.distilled, ...r.gain.validation!.baseline]) expect(a).toBeGreaterThan(0);
      // int8: ONNX Runtime, the file's size, about a quarter of the fp32 student's, same test examples.
      const int8 = r.results.results['student (int8)']!;
      expect(int8.runtime).toBe('onnx');
      expect(int8.sizeMB).toBeLessThan(r.results.results['student (KD)']!.sizeMB / 3);
      expect(Math.abs(int8.accuracy - r.results.results['student (KD)']!.accuracy)).toBeLessThanOrEqual(0.05);
      expect(existsSync(r.reportHtml) && existsSync(r.reportSvg)).toBe(true);
      expect(existsSync(r.best.configFile)).toBe(true);
    },
  );
});
