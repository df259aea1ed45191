/**
 * Issue 9's model-selection scenario through the CLI: CLINC150 (its `val` split for evaluation),
 * the PyTorch-made BERT teacher, `evaluateEvery` + early stopping; the run leaves `final/`, a
 * Hugging Face folder without projection keys that `distillery predict` loads and that scores the
 * test accuracy the run reported.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadTaskData, type DataConfig } from '@distillery/cli';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'packages', 'cli', 'dist', 'bin.js');
const data = sharedPath('data', 'clinc150');
const teacher = sharedPath('models', 'clinc-bert-teacher');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));

describe.skipIf(!data || !teacher)(`final/ of a CLINC150 run ${data && teacher ? '' : SHARED_SKIP_MESSAGE}`, () => {
  it('selects the best checkpoint on val, writes an HF folder that predict loads with the reported test accuracy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-final-'));
    const taskData: DataConfig = { type: 'clinc150', dir: data!, maxExamples: 480 };
    const cfg = {
      task: { data: taskData, batchSize: 32, maxLength: 32 },
      teacher: { model: { type: 'bert', pretrained: teacher } },
      student: { model: { type: 'bert', numHiddenLayers: 2, initFromTeacher: true } },
      training: {
        numSteps: 45,
        evaluateEvery: 5,
        earlyStopping: { patience: 4, minDelta: 0 },
        saveTotalLimit: 2,
        ckptSteps: 15,
        outputDir: join(dir, 'run'),
        seed: 42,
        optimizer: { type: 'adamw', lr: 0.0003 },
      },
      distillation: {
        temperature: 4,
        hardLabelWeight: 0.5,
        intermediateMatches: [
          { layerT: 4, layerS: 2, feature: 'hidden', loss: 'hidden_mse', weight: 1, proj: ['linear', 256, 256] },
        ],
      },
    };
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    const run = spawnSync(process.execPath, [bin, 'distill', file, '--no-progress'], { env, encoding: 'utf8' });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
    expect(summary.validation).toBe(480);
    expect(summary.student.selected.kind).toBe('best');
    const metrics = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const evals = metrics.filter((m) => m.type === 'evaluate');
    expect(evals.length).toBeGreaterThanOrEqual(3);
    expect(summary.student.selected.value).toBe(Math.max(...evals.map((e) => e.accuracy)));

    const final = join(dir, 'run', 'final');
    for (const f of ['config.json', 'model.safetensors', 'README.md', 'vocab.txt'])
      expect(existsSync(join(final, f)), f).toBe(true);
    const hf = JSON.parse(readFileSync(join(final, 'config.json'), 'utf8'));
    expect(Object.keys(hf.id2label)).toHaveLength(151);
    expect(hf.label2id.oos).toBe(80);
    const weights = await readSafetensors(join(final, 'model.safetensors'));
    expect([...weights.tensors.keys()].some((k) => k.includes('projections'))).toBe(false);
    expect(readFileSync(join(final, 'README.md'), 'utf8')).toMatch(/test accuracy \| [\d.]+ %/);

    // predict on the same test rows the run scored (final/ records the run's maxLength, so tokens match).
    const rows = loadTaskData(taskData, 42).test;
    const input = join(dir, 'test.jsonl');
    writeFileSync(input, rows.map((r) => JSON.stringify({ text: r.text })).join('\n') + '\n');
    // stdout to a file: bin.ts ends with process.exit, which can cut off output still queued on a pipe.
    const predFile = join(dir, 'pred.jsonl');
    const fd = openSync(predFile, 'w');
    const pred = spawnSync(process.execPath, [bin, 'predict', '--model', final, '--input', input, '--jsonl'], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', fd, 'pipe'],
    });
    closeSync(fd);
    expect(pred.status, pred.stderr).toBe(0);
    const out = readFileSync(predFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string; label: string });
    expect(out.map((o) => o.text)).toEqual(rows.map((r) => r.text));
    const accuracy = out.filter((o, i) => o.label === rows[i]!.label).length / rows.length;
    expect(accuracy).toBe(summary.student.accuracy);
  }, 600_000);
});
