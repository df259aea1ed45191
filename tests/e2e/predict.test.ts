/** `distillery predict` on the PyTorch-made CLINC150 teacher: labels and ids as in expected.json. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { initBackend, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { predictCommand } from '@distillery/cli';

const teacher = sharedPath('models', 'clinc-bert-teacher');

describe.skipIf(!teacher)(`distillery predict ${teacher ? '' : SHARED_SKIP_MESSAGE}`, () => {
  it('prints label, score, input_ids and logits per text (--json)', async () => {
    await initBackend();
    const expected = JSON.parse(readFileSync(join(teacher!, 'expected.json'), 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'predict-'));
    const input = join(dir, 'texts.jsonl');
    writeFileSync(input, expected.texts.map((t: string) => JSON.stringify({ text: t })).join('\n') + '\n');
    let text = '';
    const out = new Writable({ write(c, _e, cb) { text += String(c); cb(); } });
    await predictCommand({ model: teacher!, input, json: true, out });
    const rows = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.label)).toEqual(expected.predicted_labels);
    rows.forEach((r, i) => {
      expect(r.input_ids).toEqual(expected.input_ids[i].filter((_: number, j: number) => expected.attention_mask[i][j] === 1));
      expect(r.score).toBeGreaterThan(0);
      expect(r.logits).toHaveLength(151);
    });
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
    const out = new Writable({ write(c, _e, cb) { text += String(c); cb(); } });
    await predictCommand({ model: distil!, input, json: true, out });
    const rows = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.label)).toEqual(expected.predicted_labels);
    rows.forEach((r, i) => r.logits.forEach((v: number, j: number) => expect(Math.abs(v - expected.logits[i][j])).toBeLessThan(1e-4)));
  });
});

