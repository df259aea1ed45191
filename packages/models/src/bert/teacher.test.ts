import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadTokenizer } from '@distillery/data';
import { BertForSequenceClassification } from './bert.model.js';

const dir = sharedPath('models', 'clinc-bert-teacher');

interface ExpectedBatch {
  name?: string;
  texts: string[];
  input_ids: number[][];
  logits: number[][];
  predicted_labels: string[];
  'hidden_states_4[0,0,:8]': number[];
}

describe.skipIf(!dir)(
  `CLINC150 teacher reproduces expected.json (${dir ? 'shared present' : SHARED_SKIP_MESSAGE})`,
  () => {
    let model: BertForSequenceClassification;
    const expected = dir ? JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) : {};
    const batches: ExpectedBatch[] = dir ? [{ name: 'top', ...expected }, ...expected.batches] : [];
    beforeAll(async () => {
      await tf.setBackend('cpu');
      model = await BertForSequenceClassification.fromPretrained(dir!, { trainable: false });
    });
    afterAll(() => model?.dispose());

    it('is frozen: no variables, config parsed', () => {
      expect(Object.keys(model.parameters())).toHaveLength(0);
      expect(Object.keys(model.weights())).toHaveLength(5 + 4 * 16 + 4);
      expect(model.config.numLabels).toBe(151);
      expect(model.config.id2label[80]).toBe('oos');
    });

    it('input_ids, logits (1e-4), last hidden state and predicted labels for every batch; no leaks', () => {
      const tok = loadTokenizer(dir!);
      // The first pass caches transposed weights of the frozen model; count tensors after it.
      tf.tidy(() => {
        model.forward(tok.encodeBatch(['warm up']), { training: false });
      });
      const before = tf.memory().numTensors;
      let maxDiff = 0;
      for (const b of batches) {
        const batch = tok.encodeBatch(b.texts);
        expect(Array.from(batch.inputIds)).toEqual(b.input_ids.flat());
        const [logits, h4] = tf.tidy(() => {
          const out = model.forward(batch, { training: false });
          expect(out.hiddenStates).toHaveLength(5);
          expect(out.attentions).toHaveLength(4);
          expect(out.attentions[0]!.shape).toEqual([b.texts.length, 4, batch.seqLen, batch.seqLen]);
          return [
            out.logits.arraySync() as number[][],
            tf.slice(out.hiddenStates[4]!, [0, 0, 0], [1, 1, 8]).dataSync(),
          ];
        });
        logits.forEach((row, r) =>
          row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - b.logits[r]![j]!)))),
        );
        Array.from(h4).forEach((v, j) => expect(Math.abs(v - b['hidden_states_4[0,0,:8]'][j]!)).toBeLessThan(1e-4));
        const predicted = logits.map((row) => model.config.id2label[row.indexOf(Math.max(...row))]);
        expect(predicted).toEqual(b.predicted_labels);
      }
      console.log(`max |logit - expected| over ${batches.length} batches: ${maxDiff.toExponential(2)}`);
      expect(maxDiff).toBeLessThan(1e-4);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('attention probabilities are ~0 on padded keys and scores carry the -10000 mask', () => {
      const tok = loadTokenizer(dir!);
      const batch = tok.encodeBatch(['hi', 'what is the weather like today']);
      tf.tidy(() => {
        const out = model.forward(batch, { training: false, outputAttentionScores: true, outputHiddenStates: false });
        expect(out.hiddenStates).toHaveLength(0);
        const probs = out.attentions[0]!.arraySync();
        const scores = out.attentionScores![0]!.arraySync();
        expect(probs[0]![0]![0]![5]).toBeLessThan(1e-30);
        expect(scores[0]![0]![0]![5]).toBeLessThan(-9000);
      });
    });
  },
);
