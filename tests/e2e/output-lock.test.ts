/** One run per output folder, through the CLI's runJob: a re-run needs overwrite, which leaves no stale checkpoint. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@distillery/core';
import { JobConfigSchema, runJob } from '@distillery/cli';

describe('runJob and the output folder', () => {
  it('a second run into a used folder is refused; --overwrite clears the old checkpoints first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-job-'));
    const cfg = (numEpochs: number) =>
      JobConfigSchema.parse({
        task: { data: { type: 'spam-assassin', maxExamples: 200 }, features: 64 },
        teacher: { model: { type: 'mlp', hidden: [8] }, training: { numEpochs: 1, backend: 'cpu' } },
        student: { model: { type: 'mlp', hidden: [4] } },
        training: { numEpochs, ckptFrequency: 2, outputDir: dir, backend: 'cpu' },
      });
    await runJob(cfg(2), 'distill', { logger: silentLogger, progress: false });
    const first = readdirSync(dir).filter((f) => f.startsWith('checkpoint-'));
    expect(first).toHaveLength(4);
    writeFileSync(join(dir, '.gs999.safetensors.123.deadbeef.tmp'), 'torn');
    await expect(runJob(cfg(1), 'distill', { logger: silentLogger, progress: false })).rejects.toThrow(
      /previous run's outputs[\s\S]*--overwrite/,
    );
    await runJob(cfg(1), 'distill', { logger: silentLogger, progress: false, overwrite: true });
    const files = readdirSync(dir);
    expect(files.filter((f) => f.startsWith('checkpoint-'))).toHaveLength(2);
    expect(files.filter((f) => f.endsWith('.tmp') || f === '.distillery.lock')).toEqual([]);
  }, 60_000);
});
