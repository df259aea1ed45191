/**
 * The memory estimate refuses a step that cannot fit before any work: a pretrained CLINC150 teacher with a
 * batch of 4,096 × 512 tokens needs hundreds of GB; the job stops with MEMORY_WONT_FIT naming the knobs
 * before the teacher is evaluated or a step is taken. A normal batch passes the same check.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, DistilleryError, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadJobConfig, runJob } from '@distillery/cli';

const data = sharedPath('data', 'clinc150');
const teacher = sharedPath('models', 'clinc-bert-teacher');

describe.skipIf(!data || !teacher)(
  `memory estimate before the first step ${data && teacher ? '' : SHARED_SKIP_MESSAGE}`,
  () => {
    it('refuses an impossible batch with MEMORY_WONT_FIT naming batch size, length and the teacher cache', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'distillery-memory-'));
      const config = {
        task: { data: { type: 'clinc150', dir: data }, batchSize: 65536, maxLength: 64 },
        teacher: { model: { type: 'bert', pretrained: teacher } },
        student: { model: { type: 'bert', numHiddenLayers: 2 } },
        distillation: { temperature: 4, kdLossType: 'ce', kdLossWeight: 1, hardLabelWeight: 0.5 },
        training: { numSteps: 2, outputDir: join(dir, 'run'), seed: 1 },
      };
      const file = join(dir, 'distillery.json');
      writeFileSync(file, JSON.stringify(config));
      const { config: cfg } = await loadJobConfig(file);
      const err = await runJob(cfg, 'distill', {
        logger: createLogger('test', { level: 'error' }),
        progress: false,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DistilleryError);
      const e = err as DistilleryError;
      expect(e.code).toBe('MEMORY_WONT_FIT');
      expect(e.message).toMatch(/needs about \d+\.\d\d GB of tensor memory per step, more than/);
      expect(e.message).toMatch(/student activations \(batch 65536 × 64 tokens, 2 layers\)/);
      expect(e.message).toMatch(/teacher weights \(4\.\d M parameters, frozen\)/);
      expect(e.where).toBe('task.batchSize');
      expect(e.hint).toMatch(
        /task\.batchSize \d+ \(the largest that fits; training\.gradientAccumulationSteps \d+ keeps an effective batch of 65536\)/,
      );
      expect(e.hint).toMatch(/task\.maxLength \(now 64/);
      expect(e.hint).toMatch(/distillation\.teacherCache/);
      // Nothing ran: no step, no checkpoint, no metrics.
      const run = join(dir, 'run');
      expect(existsSync(join(run, 'metrics.jsonl'))).toBe(false);
      expect(existsSync(run) ? readdirSync(run).filter((f) => f.startsWith('checkpoint-')) : []).toEqual([]);
    });
  },
);
