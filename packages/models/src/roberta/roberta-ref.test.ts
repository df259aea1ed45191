/**
 * A tiny RoBERTa against PyTorch: tests/e2e/fixtures/roberta-ref/expected.json holds the float32 outputs of a
 * hand-written torch forward (make_reference.py, following transformers' modeling_roberta semantics) on weights
 * given by a closed formula, recomputed here.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { robertaConfig, RobertaForSequenceClassification } from './roberta.model.js';
import { bertWeightShapes } from '../bert/weights.js';

const file = resolve(__dirname, '../../../../tests/e2e/fixtures/roberta-ref/expected.json');

function nameCode(name: string): number {
  let s = 0;
  for (let i = 0; i < name.length; i++) s += name.charCodeAt(i) * (i + 1);
  return s % 1000;
}

function formulaWeight(name: string, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const code = nameCode(name);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (name.endsWith('LayerNorm.weight')) v[i] = 1 + 0.1 * Math.sin(0.37 * i + code / 100);
    else if (name.endsWith('.bias')) v[i] = 0.05 * Math.cos(0.53 * i + code / 100);
    else v[i] = 0.3 * Math.sin(0.37 * i + code / 100);
  }
  return tf.tensor(v, shape);
}

describe.skipIf(!existsSync(file))('tiny RoBERTa matches the PyTorch reference', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  it('logits and a hidden state within 1e-5 (padded rows included)', () => {
    const ref = JSON.parse(readFileSync(file, 'utf8'));
    const c = ref.config;
    const cfg = robertaConfig({
      vocabSize: c.vocab_size,
      hiddenSize: c.hidden_size,
      numHiddenLayers: c.num_hidden_layers,
      numAttentionHeads: c.num_attention_heads,
      intermediateSize: c.intermediate_size,
      maxPositionEmbeddings: c.max_position_embeddings,
      numLabels: c.num_labels,
    });
    const weights = Object.fromEntries(bertWeightShapes(cfg, 'sequence').map(([n, s]) => [n, formulaWeight(n, s)]));
    const m = new RobertaForSequenceClassification(cfg, { trainable: false }, weights);
    const ids: number[][] = ref.input_ids;
    const b = ids.length;
    const l = ids[0]!.length;
    const batch = {
      inputIds: Int32Array.from(ids.flat()),
      attentionMask: Int32Array.from((ref.attention_mask as number[][]).flat()),
      tokenTypeIds: new Int32Array(b * l),
      batchSize: b,
      seqLen: l,
    };
    let maxDiff = 0;
    tf.tidy(() => {
      const out = m.forward(batch, { training: false });
      (out.logits.arraySync() as number[][]).forEach((row, i) =>
        row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - ref.logits[i][j])))),
      );
      const h = tf.slice(out.hiddenStates[2]!, [0, 0, 0], [1, l, c.hidden_size]).arraySync();
      h[0]!.forEach((row, i) =>
        row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - ref.hidden_states_2_row0[i][j])))),
      );
    });
    console.log(`roberta vs torch ${ref.torch_version}: max |diff| ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(1e-5);
    m.dispose();
  });
});
