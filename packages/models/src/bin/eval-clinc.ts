#!/usr/bin/env node
/**
 * Evaluate a Hugging Face BERT folder on a CLINC150 split.
 *
 *   distillery-eval-clinc --model ../shared/models/clinc-bert-teacher --data ../shared/data/clinc150 \
 *     [--split test|validation|train] [--batch-size 128] [--limit N] [--backend native|wasm|cpu]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@distillery/core';
import { loadClinc150, loadTokenizer } from '@distillery/data';
import { loadHfModel } from '../bert/hf.io.js';
import { evaluateIntents } from '../eval/clinc.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      split: { type: 'string', default: 'test' },
      'batch-size': { type: 'string', default: '128' },
      limit: { type: 'string' },
      backend: { type: 'string' },
    },
  });
  if (!values.model || !values.data) {
    process.stderr.write(
      'usage: distillery-eval-clinc --model DIR --data DIR [--split test] [--batch-size 128] [--limit N] [--backend native|wasm|cpu]\n',
    );
    process.exit(2);
  }
  await initBackend({ backend: values.backend, logger: { info: (m) => process.stderr.write(`${m}\n`) } });
  const data = loadClinc150(values.data);
  const split = values.split as 'train' | 'validation' | 'test';
  let examples = data[split];
  if (!examples) throw new Error(`unknown split ${values.split} (train, validation, test)`);
  if (values.limit) examples = examples.slice(0, Number(values.limit));
  const model = await loadHfModel(values.model, { trainable: false });
  const tokenizer = loadTokenizer(values.model);
  const r = evaluateIntents(model, tokenizer, examples, {
    batchSize: Number(values['batch-size']),
    onProgress: (d, n) => process.stderr.write(`\r${d}/${n}`),
  });
  process.stderr.write('\n');
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const { predictions: _p, ...summary } = r;
  process.stdout.write(JSON.stringify({ split, backend: tf.getBackend(), ...summary }) + '\n');
  process.stderr.write(
    `accuracy ${pct(r.accuracy)}, in-scope ${pct(r.inScopeAccuracy)}, oos recall ${pct(r.oosRecall)} (${r.total} rows, ${(r.ms / 1000).toFixed(1)} s)\n`,
  );
  model.dispose();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
