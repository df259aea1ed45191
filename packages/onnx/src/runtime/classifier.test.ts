import { describe, expect, it, beforeAll } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadClinc150 } from '@distillery/data';
import { exportModel } from '../export/write.js';
import { createClassifier } from './classifier.js';

const dir = sharedPath('models', 'clinc-bert-teacher');
const data = sharedPath('data', 'clinc150');

describe.skipIf(!dir || !data)(
  `createClassifier and transformers.js on the exported CLINC150 teacher (${dir && data ? 'shared present' : SHARED_SKIP_MESSAGE})`,
  () => {
    let out: string;
    let texts: string[];
    beforeAll(async () => {
      await tf.setBackend('cpu');
      out = join(mkdtempSync(join(tmpdir(), 'onnx-clf-')), 'clinc-student');
      await exportModel(dir!, out, { quantize: 'int8', validate: false });
      // 60 test texts spread over the split (in-scope and oos).
      const test = loadClinc150(data!).test;
      texts = Array.from({ length: 60 }, (_, i) => test[Math.floor((i * test.length) / 60)]!.text);
    });

    it('onnx and tfjs runtimes give the same labels, scores within 1e-4 (pipeline shape)', async () => {
      const onnxC = await createClassifier(out, { runtime: 'onnx' });
      const tfjsC = await createClassifier(dir!, { runtime: 'tfjs' });
      try {
        expect(onnxC.source).toBe(join(out, 'onnx', 'model.onnx'));
        const a = await onnxC.predict(texts);
        const b = await tfjsC.predict(texts);
        expect(a.map((r) => r.label)).toEqual(b.map((r) => r.label));
        a.forEach((r, i) => expect(Math.abs(r.score - b[i]!.score)).toBeLessThan(1e-4));
        expect(Object.keys(a[0]!).sort()).toEqual(['label', 'score']);
        expect(await onnxC.predict('set an alarm for 7 am')).toEqual([{ label: 'alarm', score: expect.any(Number) }]);
      } finally {
        await onnxC.dispose();
        await tfjsC.dispose();
      }
    });

    it('transformers.js (real package, local files only) reproduces our labels and scores within 1e-4, fp32 and int8', async () => {
      const { pipeline, env } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.localModelPath = dirname(out);
      for (const [dtype, quantized] of [
        ['fp32', false],
        ['q8', true],
      ] as const) {
        const pipe = await pipeline('text-classification', basename(out), { dtype });
        const ours = await createClassifier(out, { runtime: 'onnx', quantized });
        try {
          const theirs = (await pipe(texts)) as { label: string; score: number }[];
          const mine = await ours.predict(texts);
          expect(theirs.map((r) => r.label)).toEqual(mine.map((r) => r.label));
          theirs.forEach((r, i) => expect(Math.abs(r.score - mine[i]!.score)).toBeLessThan(1e-4));
        } finally {
          await ours.dispose();
          await pipe.dispose();
        }
      }
    });

    it('refuses a tokenizer that does not belong to the graph, and a folder without a model', async () => {
      const bad = mkdtempSync(join(tmpdir(), 'onnx-badtok-'));
      mkdirSync(join(bad, 'onnx'));
      copyFileSync(join(out, 'onnx', 'model.onnx'), join(bad, 'onnx', 'model.onnx'));
      copyFileSync(join(out, 'config.json'), join(bad, 'config.json'));
      writeFileSync(
        join(bad, 'vocab.txt'),
        ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 4995 }, (_, i) => `w${i}`)].join('\n') +
          '\n',
      );
      await expect(createClassifier(bad, { runtime: 'onnx' })).rejects.toThrow(
        /the tokenizer has 5000 tokens but the graph's word embedding has 2971 rows/,
      );
      await expect(createClassifier(dir!, { runtime: 'onnx', quantized: true })).rejects.toThrow(
        /no model_quantized\.onnx or onnx\/model_quantized\.onnx in the folder/,
      );
    });
  },
);
