import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as tf from '@tensorflow/tfjs-core';
import { SHARED_SKIP_MESSAGE, initBackend, sharedPath } from '@distillery/core';
import { loadClinc150 } from '@distillery/data';
import { readResults } from '@distillery/report';
import { benchCommand, benchExamples } from './bench.js';
import { predictCommand } from './predict.js';

const teacher = sharedPath('models', 'clinc-bert-teacher');
const clinc = sharedPath('data', 'clinc150');

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

describe('distillery bench', () => {
  it.skipIf(!teacher || !clinc)(
    `agrees with distillery predict on the same split, accumulates results.json ${teacher ? '' : SHARED_SKIP_MESSAGE}`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));
      // 300 test rows (incl. oos) keep the test in seconds.
      const rows = loadClinc150(clinc!).test.filter((_, i) => i % 18 === 0);
      const data = join(dir, 'test.jsonl');
      writeFileSync(data, rows.map((e) => JSON.stringify(e)).join('\n') + '\n');
      const results = join(dir, 'results.json');
      await initBackend();
      const before = tf.memory().numTensors;
      const rec = await benchCommand({ model: teacher!, data, label: 'teacher', results, runs: 30, out: sink() });
      expect(tf.memory().numTensors).toBe(before);
      // The same texts through `distillery predict`.
      const out = sink();
      await predictCommand({ model: teacher!, input: data, jsonl: true, out });
      const preds = out.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { label: string });
      const acc = preds.filter((p, i) => p.label === rows[i]!.label).length / rows.length;
      expect(rec.accuracy).toBe(acc);
      expect(rec.n).toBe(rows.length);
      expect(rec.oosRecall).toBeDefined();
      expect(rec.sizeMB).toBeCloseTo(16.17, 1);
      expect(rec.latencyMs.runs).toBe(30);
      expect(rec.latencyMs.p95).toBeGreaterThanOrEqual(rec.latencyMs.p50);
      await benchCommand({ model: teacher!, data, label: 'teacher-again', results, runs: 5, out: sink() });
      const r = readResults(results);
      expect(Object.keys(r.results)).toEqual(['teacher', 'teacher-again']);
      expect(r.current).toBe('teacher-again');
      expect(JSON.parse(readFileSync(results, 'utf8')).results.teacher.accuracy).toBe(acc);
    },
  );

  it('names the split and the data with a fix', async () => {
    await expect(benchExamples('/nowhere', 'tset')).rejects.toThrow(/did you mean "test"/);
    await expect(benchExamples('/nowhere', 'test')).rejects.toThrow(/--data takes/);
  });
});
