/**
 * `distillery predict --model DIR --input FILE [--json] [--batch-size N]`: classify texts with a Hugging
 * Face BERT folder (config.json + model.safetensors + tokenizer files).
 * @packageDocumentation
 */
import { extname } from 'node:path';
import { DistilleryError, initBackend } from '@distillery/core';
import { loadJsonl, loadTokenizer, readTextFile, type TruncationStrategy } from '@distillery/data';
import { loadHfModel, predictTexts } from '@distillery/models';
import { predictPairsToStream, readPredictPairs } from './predict-pairs.js';

/** Options of {@link predictCommand}. */
export interface PredictCommandOptions {
  /** Hugging Face model folder. */
  model: string;
  /** `.txt` (one text per line; blank lines skipped) or `.jsonl` (objects with a `text` field). */
  input: string;
  /** One JSON object per line: text, label, score, input_ids, logits. */
  json?: boolean;
  batchSize?: number;
  /** How sentence pairs longer than the model's limit are cut. @default 'longest_first' */
  truncation?: TruncationStrategy;
  /** Where results go (default stdout). */
  out?: NodeJS.WritableStream;
}

/** Texts of a `.txt` or `.jsonl` input file; errors name the file (and line for JSONL). */
export function readPredictInputs(file: string): string[] {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return loadJsonl(file, { labelOptional: true }).examples.map((e) => e.text);
  if (ext === '.txt' || ext === '') {
    return readTextFile(file)
      .split('\n')
      .map((l) => l.replace(/\r$/, ''))
      .filter((l) => l.trim() !== '');
  }
  throw new DistilleryError('DATA_FORMAT', `unsupported input type "${ext}"`, { where: file, hint: 'use .txt (one text per line) or .jsonl (a "text" field per line)' });
}

/**
 * Print, per input text, the predicted label and its softmax probability (`label<TAB>score<TAB>text`),
 * or with `json` one object per line: `{ text, label, score, input_ids, logits }`.
 */
export async function predictCommand(opts: PredictCommandOptions): Promise<void> {
  const out = opts.out ?? process.stdout;
  const batchSize = opts.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DistilleryError('CONFIG_INVALID', `batch size must be a positive integer, got ${opts.batchSize}`, { where: '--batch-size' });
  }
  // A JSONL file whose rows have text_a/text_b (or textA/textB) holds sentence pairs.
  const pairs = readPredictPairs(opts.input);
  const texts = pairs ? [] : readPredictInputs(opts.input);
  await initBackend({ logger: { info: (m) => process.stderr.write(`${m}\n`) } });
  const tokenizer = loadTokenizer(opts.model);
  const model = await loadHfModel(opts.model, { trainable: false });
  try {
    if (model.head !== 'sequence') {
      throw new DistilleryError('MODEL_UNSUPPORTED', `predict needs a sequence classifier, the folder holds a ${model.head === 'token' ? 'token classifier' : 'bare encoder'}`, { where: opts.model });
    }
    if (pairs) return predictPairsToStream(model, tokenizer, pairs, { batchSize, json: opts.json, out, truncation: opts.truncation });
    for (const p of predictTexts(model, tokenizer, texts, { batchSize })) {
      if (opts.json) {
        out.write(JSON.stringify({ text: p.text, label: p.label, score: p.score, input_ids: p.inputIds, logits: p.logits }) + '\n');
      } else {
        out.write(`${p.label}\t${p.score.toFixed(4)}\t${p.text}\n`);
      }
    }
  } finally {
    model.dispose();
  }
}
