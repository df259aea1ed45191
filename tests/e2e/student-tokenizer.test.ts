/**
 * Issue 11: teacher and student with different vocabularies. The job builds one batch per side from
 * the same examples; logit KD (and a token-pooling match) works across tokenizers; token-level
 * matches are refused naming the match.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadJobConfig, runJob, type JobConfig } from '@distillery/cli';

const ready =
  sharedPath('models', 'clinc-bert-teacher') &&
  sharedPath('models', 'clinc-pair-bert') &&
  sharedPath('data', 'clinc150');
const docs = join(import.meta.dirname, '..', '..', 'docs', 'configs');
const log = createLogger('test', { level: 'warn' });

async function tiny(edit: (c: JobConfig) => void): Promise<JobConfig> {
  const { config } = await loadJobConfig(join(docs, 'student-tokenizer.json'));
  config.training = {
    ...config.training,
    numEpochs: 1,
    outputDir: join(mkdtempSync(join(tmpdir(), 'distillery-tok-')), 'run'),
  };
  config.task = { ...config.task, data: { ...config.task.data, maxExamples: 160 } };
  edit(config);
  return config;
}

describe.skipIf(!ready)(`different tokenizers per side ${ready ? '' : SHARED_SKIP_MESSAGE}`, () => {
  it('a student with a WordPiece vocab built from the texts distils from the ONNX teacher (KD + pkd match)', async () => {
    const cfg = await tiny(() => undefined);
    const s = await runJob(cfg, 'distill', { logger: log, progress: false });
    expect(s.student!.source).toContain('GeneralDistiller');
    const steps = readFileSync(join(cfg.training.outputDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'step');
    expect(steps.length).toBe(5);
    expect(steps[0].losses.unweighted_kd_loss).toBeGreaterThan(0);
    // The exported student carries its own vocabulary, not the teacher's.
    const vocab = readFileSync(join(s.final!, 'vocab.txt'), 'utf8');
    expect(vocab).not.toBe(readFileSync(join(sharedPath('models', 'clinc-bert-teacher')!, 'vocab.txt'), 'utf8'));
  });

  it('a student tokenizer folder with another vocabulary (and the teacher cache keyed by the teacher side)', async () => {
    const dir = sharedPath('models', 'clinc-pair-bert')!;
    const cfg = await tiny((c) => {
      c.student = { ...c.student, tokenizer: dir };
      c.distillation = { ...c.distillation, intermediateMatches: [], teacherCache: true };
      c.training = { ...c.training, numEpochs: 2 };
    });
    const s = await runJob(cfg, 'distill', { logger: log, progress: false });
    expect(s.teacherCache).toMatchObject({ liveBatches: 5, cachedBatches: 5 });
    expect(existsSync(join(s.final!, 'vocab.txt')) || existsSync(join(s.final!, 'tokenizer.json'))).toBe(true);
  });

  it('a token-level match between different tokenizations is refused, naming the match', async () => {
    const cfg = await tiny((c) => {
      c.distillation = {
        ...c.distillation,
        intermediateMatches: [{ ...c.distillation.intermediateMatches[0]!, loss: 'hidden_mse' }],
      };
    });
    await expect(runJob(cfg, 'distill', { logger: log, progress: false })).rejects.toThrow(
      /intermediateMatches\[0\] \(hidden, loss "hidden_mse".*different lengths/,
    );
    // A config file says so at load time, with file:line.
    const dir = mkdtempSync(join(tmpdir(), 'distillery-tok-bad-'));
    const raw = JSON.parse(
      readFileSync(join(docs, 'student-tokenizer.json'), 'utf8').replaceAll(
        '../../../shared',
        join(sharedPath('models')!, '..'),
      ),
    );
    raw.distillation.intermediateMatches[0].loss = 'hidden_mse';
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(raw, null, 2));
    await expect(loadJobConfig(join(dir, 'bad.json'))).rejects.toThrow(
      /bad\.json:\d+:\d+ distillation\.intermediateMatches\[0\]\.loss: match 0 \(hidden, "hidden_mse"\) compares tokens/,
    );
  });
});
