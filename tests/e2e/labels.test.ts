/**
 * One label space: user data in JSONL / CSV with a pretrained teacher maps label names through the
 * teacher's id2label, so the job's teacher accuracy equals what `distillery predict` reports on
 * the same texts — whatever order the labels appear in the files.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DistilleryError, initBackend, sharedPath, silentLogger, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { JobConfigSchema, predictCommand, runJob } from '@distillery/cli';
import { loadClinc150, shuffled, type Example } from '@distillery/data';

const teacher = sharedPath('models', 'clinc-bert-teacher');
const clinc = sharedPath('data', 'clinc150');

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

describe.skipIf(!teacher || !clinc)(
  `labels follow the pretrained teacher ${teacher && clinc ? '' : SHARED_SKIP_MESSAGE}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'labels-'));
    const data = clinc ? loadClinc150(clinc) : undefined;
    // 12 intents from the end of the alphabet first: sorted data labels would give them ids 0..11.
    const intents = data ? [...data.labels.names].reverse().slice(0, 12) : [];
    const pick = (xs: Example[], n: number) =>
      shuffled(
        xs.filter((e) => intents.includes(e.label!)),
        7,
      ).slice(0, n);
    const train = data ? pick(data.train, 40) : [];
    const test = data ? pick(data.test, 96) : [];
    const writeJsonl = (name: string, xs: Example[]) => {
      writeFileSync(
        join(dir, name),
        xs.map((e) => JSON.stringify({ utterance: e.text, intent: e.label })).join('\n') + '\n',
      );
      return join(dir, name);
    };
    const writeCsv = (name: string, xs: Example[]) => {
      writeFileSync(
        join(dir, name),
        'intent,utterance\n' + xs.map((e) => `${csvField(e.label!)},${csvField(e.text)}`).join('\n') + '\n',
      );
      return join(dir, name);
    };
    const job = (type: 'jsonl' | 'csv', trainFile: string, testFile: string, extra: Record<string, unknown> = {}) =>
      JobConfigSchema.parse({
        task: {
          data: { type, train: trainFile, test: testFile, textField: 'utterance', labelField: 'intent', ...extra },
          batchSize: 32,
        },
        teacher: { model: { type: 'bert', pretrained: teacher } },
        student: { model: { type: 'bert', numHiddenLayers: 1 } },
        training: { numSteps: 1, outputDir: join(dir, `run-${type}-${Math.random().toString(36).slice(2)}`) },
      });

    async function predictAccuracy(xs: Example[]): Promise<number> {
      const input = join(dir, 'texts.jsonl');
      writeFileSync(input, xs.map((e) => JSON.stringify({ text: e.text })).join('\n') + '\n');
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
        .map((l) => JSON.parse(l) as { label: string });
      return rows.filter((r, i) => r.label === xs[i]!.label).length / xs.length;
    }

    it('JSONL and CSV: the teacher accuracy of the job equals predict on the same texts', async () => {
      await initBackend();
      const expected = await predictAccuracy(test);
      expect(expected).toBeGreaterThan(0.5);
      for (const type of ['jsonl', 'csv'] as const) {
        const w = type === 'jsonl' ? writeJsonl : writeCsv;
        const s = await runJob(job(type, w(`train.${type}`, train), w(`test.${type}`, test)), 'train', {
          logger: silentLogger,
          progress: false,
        });
        expect(s.teacher.accuracy, type).toBeCloseTo(expected, 10);
      }
    }, 120_000);

    it('a label the teacher does not know is an error naming it and its file:line (or extends the labels when asked)', async () => {
      const bad = [...train.slice(0, 3), { text: 'what is my horoscope', label: 'horoscope' }, ...train.slice(3)];
      const file = writeJsonl('unknown.jsonl', bad);
      const testFile = writeJsonl('t.jsonl', test);
      let err: unknown;
      try {
        await runJob(job('jsonl', file, testFile), 'train', { logger: silentLogger, progress: false });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DistilleryError);
      expect((err as DistilleryError).code).toBe('UNKNOWN_LABEL');
      expect((err as Error).message).toContain(`${file}:4: label "horoscope" is not one of the teacher's 151 labels`);
      expect((err as Error).message).toContain('extendLabels');
      // extendLabels: the student gets a 152nd logit; distillation runs (KD over the teacher's 151).
      const s = await runJob(job('jsonl', file, testFile, { extendLabels: true }), 'distill', {
        logger: silentLogger,
        progress: false,
      });
      expect(s.student).toBeDefined();
    }, 120_000);

    it('test labels unseen in training: an error, or counted and left out with unseenTestLabels: "warn"', async () => {
      const trainFile = writeJsonl('tr.jsonl', train);
      const testFile = writeJsonl('te.jsonl', [
        ...test,
        { text: 'tell me a joke about cats', label: 'definitely_new' },
      ]);
      await expect(
        runJob(job('jsonl', trainFile, testFile, { extendLabels: true }), 'train', {
          logger: silentLogger,
          progress: false,
        }),
      ).rejects.toThrow(/te\.jsonl:97: test label "definitely_new" is unknown to the teacher/);
      const warned: string[] = [];
      const logger = { ...silentLogger, warn: (m: string) => void warned.push(m) };
      const s = await runJob(job('jsonl', trainFile, testFile, { unseenTestLabels: 'warn' }), 'train', {
        logger,
        progress: false,
      });
      expect(s.test).toBe(test.length);
      expect(warned.join('\n')).toMatch(/1 test example\(s\) left out of the evaluation/);
    }, 120_000);
  },
);
