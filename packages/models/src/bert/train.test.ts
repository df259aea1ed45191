import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import {
  buildWordPieceVocab,
  encodeExamples,
  loadClinc150,
  makeBatches,
  shuffled,
  WordPieceTokenizer,
} from '@distillery/data';
import { bertConfig } from './bert.config.js';
import { BertForSequenceClassification } from './bert.model.js';
import { bertAdaptor } from './adaptors.js';

const clinc = sharedPath('data', 'clinc150');

/** Minimal supervised loop (the real distillers live in core): Adam on the model's own CE loss. */
async function trainTiny(
  backend: 'cpu' | 'wasm',
  steps: number,
  dropout = 0.1,
): Promise<{ losses: number[]; msPerStep: number; leaked: number }> {
  await tf.setBackend(backend);
  const data = loadClinc150(clinc!);
  const vocab = buildWordPieceVocab(
    data.train.map((e) => e.text),
    { maxSize: 1000 },
  );
  const tok = new WordPieceTokenizer(vocab, { maxLength: 32 });
  // 320 examples of 10 intents (all 151 outputs kept), repeated: the loss must fall clearly in a few steps.
  const ten = new Set(data.labels.names.slice(0, 10));
  const subset = shuffled(
    data.train.filter((e) => ten.has(e.label!)),
    1,
  ).slice(0, 320);
  const items = encodeExamples(subset, tok, data.labels);
  const config = bertConfig({
    vocabSize: vocab.length,
    hiddenSize: 32,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 64,
    maxPositionEmbeddings: 32,
    hiddenDropoutProb: dropout,
    attentionProbsDropoutProb: dropout,
    id2label: [...data.labels.names],
  });
  const model = new BertForSequenceClassification(config, {
    seed: 0,
    dropoutSeed: 11,
    outputAttentions: false,
    outputHiddenStates: false,
  });
  const opt = tf.train.adam(1e-2);
  const vars = Object.values(model.parameters());
  const losses: number[] = [];
  let epoch = 0;
  let batches = makeBatches(items, { batchSize: 32, shuffle: true, seed: 5 }, epoch);
  const before = tf.memory().numTensors;
  let t0 = 0;
  for (let step = 0; step < steps; step++) {
    if (batches.length === 0) batches = makeBatches(items, { batchSize: 32, shuffle: true, seed: 5 }, ++epoch);
    const batch = batches.shift()!;
    if (step === 1) t0 = performance.now(); // step 0 includes kernel warm-up
    const loss = opt.minimize(
      () => {
        const out = model.forward(batch, { training: true });
        const a = bertAdaptor(batch, out);
        return (a.losses as tf.Scalar[])[0]!;
      },
      true,
      vars,
    )!;
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
  }
  const msPerStep = (performance.now() - t0) / (steps - 1);
  const leaked = tf.memory().numTensors - before - 2 * vars.length - 2; // Adam moments + its 2 scalar accumulators
  opt.dispose();
  model.dispose();
  return { losses, msPerStep, leaked };
}

describe.skipIf(!clinc)(
  `tiny student from scratch on CLINC150 (${clinc ? 'shared present' : SHARED_SKIP_MESSAGE})`,
  () => {
    it('wasm: loss goes down over 40 Adam steps, no tensor leaks', async () => {
      const { losses, msPerStep, leaked } = await trainTiny('wasm', 40);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const first = mean(losses.slice(0, 5));
      const last = mean(losses.slice(-5));
      console.log(
        `wasm: loss ${first.toFixed(3)} -> ${last.toFixed(3)}, ${msPerStep.toFixed(1)} ms/step (batch 32, 2 layers x 32 wide)`,
      );
      expect(first).toBeGreaterThan(Math.log(151) - 0.5);
      expect(last).toBeLessThan(first - 1);
      expect(leaked).toBeLessThanOrEqual(0);
    });
    it('cpu: the same first steps give the same losses (backends agree, gradients included)', async () => {
      // Seeded dropout draws the same masks on every backend.
      const { losses, msPerStep, leaked } = await trainTiny('cpu', 4);
      console.log(`cpu: ${msPerStep.toFixed(1)} ms/step`);
      const wasm = (await trainTiny('wasm', 4)).losses;
      losses.forEach((l, i) => expect(Math.abs(l - wasm[i]!)).toBeLessThan(1e-4));
      expect(leaked).toBeLessThanOrEqual(0);
    });
  },
);
