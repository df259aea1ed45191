import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadClinc150, loadTokenizer, type TextTokenizer } from '@distillery/data';
import { loadHfModel } from '../bert/hf.io.js';
import type { EncoderModel } from '../hf/encoder.types.js';
import { evaluateIntents } from './clinc.js';
import { predictTexts } from './predict.js';

const teacherDir = sharedPath('models', 'clinc-bert-teacher');
const clincDir = sharedPath('data', 'clinc150');
/** The full 5,500-row evaluation takes ~45 s on wasm (2 cores); opt in with DISTILLERY_FULL_EVAL=1. */
const full = process.env.DISTILLERY_FULL_EVAL === '1';

describe.skipIf(!teacherDir || !clincDir)(
  `teacher accuracy on CLINC150 test, wasm backend (${teacherDir ? 'shared present' : SHARED_SKIP_MESSAGE})`,
  () => {
    let model: EncoderModel;
    let tok: TextTokenizer;
    beforeAll(async () => {
      await tf.setBackend('wasm');
      model = await loadHfModel(teacherDir!, { trainable: false });
      tok = loadTokenizer(teacherDir!);
    });
    afterAll(() => model?.dispose());

    it('wasm matches expected.json logits too', () => {
      const e = JSON.parse(readFileSync(join(teacherDir!, 'expected.json'), 'utf8'));
      let maxDiff = 0;
      for (const b of [e, ...e.batches] as { texts: string[]; logits: number[][]; predicted_labels: string[] }[]) {
        const preds = predictTexts(model, tok, b.texts, { sortByLength: false });
        preds.forEach((p, r) =>
          p.logits.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - b.logits[r]![j]!)))),
        );
        expect(preds.map((p) => p.label)).toEqual(b.predicted_labels);
      }
      console.log(`wasm: max |logit - expected| = ${maxDiff.toExponential(2)}`);
      expect(maxDiff).toBeLessThan(1e-4);
    });

    it('every 18th test row (306 rows, in-scope and oos): exact correct counts, no leaks', () => {
      const { test } = loadClinc150(clincDir!);
      const subset = test.filter((_, i) => i % 18 === 0);
      predictTexts(model, tok, ['warm up']); // caches transposed weights
      const before = tf.memory().numTensors;
      const r = evaluateIntents(model, tok, subset, { batchSize: 128 });
      expect(tf.memory().numTensors).toBe(before);
      console.log(
        `subset: ${r.total} rows, accuracy ${(100 * r.accuracy).toFixed(2)} %, in-scope ${(100 * r.inScopeAccuracy).toFixed(2)} %, oos recall ${(100 * r.oosRecall).toFixed(2)} % in ${(r.ms / 1000).toFixed(1)} s`,
      );
      // A fixed subset of a model that reproduces PyTorch's full-split counts exactly: its counts are
      // exact too (one flipped prediction fails). Counted from the predictions, not the rounded rates.
      const isOos = subset.map((e) => e.label === 'oos');
      const ok = r.predictions.map((p, i) => p === subset[i]!.label);
      const count = (keep: (i: number) => boolean) => ok.filter((v, i) => v && keep(i)).length;
      expect([r.total, r.inScopeTotal, r.oosTotal]).toEqual([306, 250, 56]);
      expect([count(() => true), count((i) => !isOos[i]), count((i) => isOos[i]!)]).toEqual([242, 220, 22]);
      expect(Math.round(r.accuracy * 306)).toBe(242);
    });

    it.skipIf(!full)(
      'full test split reproduces 80.20 % / 89.98 % / 36.20 % exactly (DISTILLERY_FULL_EVAL=1)',
      () => {
        const { test } = loadClinc150(clincDir!);
        const r = evaluateIntents(model, tok, test, { batchSize: 250 });
        console.log(`full: ${(r.ms / 1000).toFixed(1)} s`);
        expect([r.total, r.inScopeTotal, r.oosTotal]).toEqual([5500, 4500, 1000]);
        expect(Math.round(r.accuracy * 5500)).toBe(4411);
        expect(Math.round(r.inScopeAccuracy * 4500)).toBe(4049);
        expect(Math.round(r.oosRecall * 1000)).toBe(362);
      },
      600_000,
    );
  },
);
