/** `distillery predict` on the PyTorch-made CLINC150 teacher: labels, ids and logits as in expected.json. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { initBackend, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { predictCommand } from '@distillery/cli';

const teacher = sharedPath('models', 'clinc-bert-teacher');

describe.skipIf(!teacher)(`distillery predict ${teacher ? '' : SHARED_SKIP_MESSAGE}`, () => {
  it('prints label, score, input_ids and logits per text (--jsonl)', async () => {
    await initBackend();
    const expected = JSON.parse(readFileSync(join(teacher!, 'expected.json'), 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'predict-'));
    const input = join(dir, 'texts.jsonl');
    writeFileSync(input, expected.texts.map((t: string) => JSON.stringify({ text: t })).join('\n') + '\n');
    let text = '';
    const out = new Writable({
      write(c, _e, cb) {
        text += String(c);
        cb();
      },
    });
    await predictCommand({ model: teacher!, input, jsonl: true, out });
    const rows = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.label)).toEqual(expected.predicted_labels);
    expect(rows).toHaveLength(expected.texts.length);
    let maxDiff = 0;
    rows.forEach((r, i) => {
      expect(r.input_ids).toEqual(
        expected.input_ids[i].filter((_: number, j: number) => expected.attention_mask[i][j] === 1),
      );
      const want = expected.logits[i] as number[];
      expect(r.logits).toHaveLength(want.length);
      (r.logits as number[]).forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - want[j]!))));
      // score is the softmax probability of the predicted class, recomputed from PyTorch's logits
      const mx = Math.max(...want);
      const z = want.reduce((a, v) => a + Math.exp(v - mx), 0);
      expect(r.score).toBeCloseTo(1 / z, 4);
    });
    // PyTorch's logits (expected.json) within 1e-4, element by element
    expect(maxDiff).toBeLessThan(1e-4);
  });
});

const distil = sharedPath('models', 'clinc-distilbert-tiny');

describe.skipIf(!distil)(`distillery predict on a DistilBERT folder ${distil ? '' : SHARED_SKIP_MESSAGE}`, () => {
  it('loads by model_type and gives expected.json labels and logits (1e-4)', async () => {
    await initBackend();
    const expected = JSON.parse(readFileSync(join(distil!, 'expected.json'), 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'predict-distil-'));
    const input = join(dir, 'texts.txt');
    writeFileSync(input, expected.texts.join('\n') + '\n');
    let text = '';
    const out = new Writable({
      write(c, _e, cb) {
        text += String(c);
        cb();
      },
    });
    await predictCommand({ model: distil!, input, jsonl: true, out });
    const rows = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.label)).toEqual(expected.predicted_labels);
    rows.forEach((r, i) =>
      r.logits.forEach((v: number, j: number) => expect(Math.abs(v - expected.logits[i][j])).toBeLessThan(1e-4)),
    );
  });
});
