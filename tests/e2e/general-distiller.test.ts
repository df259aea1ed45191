/**
 * Issue 3's end-to-end scenario: a GeneralDistiller run, described entirely by a JSON config, mixing
 * hidden-MSE through a linear projection, attention MSE and cosine matches; a tiny BERT teacher is
 * trained on CLINC150 rows and a smaller BERT student is distilled from it. Projections are
 * trained, saved in the checkpoints, and restored.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, listCheckpoints, readSafetensors, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadJobConfig, runJob } from '@distillery/cli';

const shared = sharedPath('data', 'clinc150');

describe.skipIf(!shared)(`GeneralDistiller from a JSON config ${shared ? '' : SHARED_SKIP_MESSAGE}`, () => {
  it('mixes hidden_mse (linear proj), attention_mse and cos (tanh proj) and trains end to end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-general-'));
    const text = readFileSync(join(import.meta.dirname, 'fixtures', 'general-distiller', 'distillery.json'), 'utf8')
      .replace('${SHARED}/data/clinc150', shared!)
      .replace('"ckptFrequency": 1', `"ckptFrequency": 1, "outputDir": ${JSON.stringify(join(dir, 'run'))}`);
    const file = join(dir, 'distillery.json');
    writeFileSync(file, text);
    const { config } = await loadJobConfig(file);
    const summary = await runJob(config, 'distill', {
      logger: createLogger('test', { level: 'warn' }),
      progress: false,
    });
    expect(summary.student!.source).toContain('GeneralDistiller');
    const steps = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'step');
    const keys = [
      'unweighted_kd_loss',
      'unweighted_hidden_hidden_mse_1_2',
      'unweighted_attention_attention_mse_0_1',
      'unweighted_hidden_cos_0_0',
      'unweighted_hard_label_loss',
    ];
    for (const k of keys) {
      expect(steps[0].losses[k], k).toBeGreaterThan(0);
      expect(Number.isFinite(steps.at(-1).losses[k]), k).toBe(true);
    }
    // The matched terms go down while the student learns to imitate the teacher.
    const first = steps[0].losses.unweighted_hidden_hidden_mse_1_2;
    const last = steps.at(-1).losses.unweighted_hidden_hidden_mse_1_2;
    expect(last).toBeLessThan(first);
    // Projections are in the checkpoints, with their shapes.
    const ckpts = listCheckpoints(join(dir, 'run'));
    expect(ckpts.length).toBe(2);
    const proj = await readSafetensors(join(dir, 'run', ckpts.at(-1)!, 'projections.safetensors'));
    expect(proj.tensors.get('distillery.projections.0.weight')?.shape).toEqual([32, 16]);
    expect(proj.tensors.get('distillery.projections.2.bias')?.shape).toEqual([32]);
    expect(JSON.parse(proj.metadata['match.0']!)).toMatchObject({ index: 0, feature: 'hidden' });
    const model = await readSafetensors(join(dir, 'run', ckpts.at(-1)!, 'model.safetensors'));
    expect(model.tensors.get('bert.encoder.layer.0.attention.self.query.weight')?.shape).toEqual([16, 16]);
    expect(model.tensors.has('distillery.projections.0.weight')).toBe(false);
  });
});
