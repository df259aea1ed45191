/**
 * `distillery predict --model DIR --input FILE [--json] [--batch-size N]`: classify texts with a Hugging
 * Face BERT folder (config.json + model.safetensors + tokenizer files).
 * @packageDocumentation
 */
import { extname } from 'node:path';
import { DistilleryError, initBackend } from '@distillery/core';
import { loadJsonl, loadTokenizer, readTextFile } from '@distillery/data';
import { loadHfModel, predictTexts, type Prediction } from '@distillery/models';
import { createClassifier } from '@distillery/onnx';

/** Options of {@link predictCommand}. */
export interface PredictCommandOptions {
  /** Hugging Face model folder; with `runtime: 'onnx'` a `.onnx` file or a folder holding one. */
  model: string;
  /** `tfjs` (default) or `onnx` (ONNX Runtime; tokenizer and config.json from the model's folder). */
  runtime?: string;
  /** ONNX: folder with the tokenizer and config.json, when not beside the .onnx file. */
  tokenizer?: string;
  /** `.txt` (one text per line; blank lines skipped) or `.jsonl` (objects with a `text` field). */
  input: string;
  /** One JSON object per line: text, label, score, input_ids, logits. */
  json?: boolean;
  batchSize?: number;
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
  const texts = readPredictInputs(opts.input);
  const runtime = opts.runtime ?? 'tfjs';
  if (runtime !== 'tfjs' && runtime !== 'onnx') throw new DistilleryError('USAGE', `unknown runtime "${runtime}"`, { where: '--runtime', hint: 'tfjs or onnx' });
  if (runtime === 'onnx') {
    const clf = await createClassifier(opts.model, { runtime: 'onnx', batchSize, tokenizer: opts.tokenizer });
    try {
      writePredictions(await clf.predictDetailed(texts), opts.json ?? false, out);
    } finally {
      await clf.dispose();
    }
    return;
  }
  await initBackend({ logger: { info: (m) => process.stderr.write(`${m}\n`) } });
  const tokenizer = loadTokenizer(opts.model);
  const model = await loadHfModel(opts.model, { trainable: false });
  try {
    if (model.head !== 'sequence') {
      throw new DistilleryError('MODEL_UNSUPPORTED', `predict needs a sequence classifier, the folder holds a ${model.head === 'token' ? 'token classifier' : 'bare encoder'}`, { where: opts.model });
    }
    writePredictions(predictTexts(model, tokenizer, texts, { batchSize }), opts.json ?? false, out);
  } finally {
    model.dispose();
  }
}

/** The output of both runtimes: `label<TAB>score<TAB>text`, or one JSON object per line. */
function writePredictions(preds: readonly Prediction[], json: boolean, out: NodeJS.WritableStream): void {
  for (const p of preds) {
    if (json) {
      out.write(JSON.stringify({ text: p.text, label: p.label, score: p.score, input_ids: p.inputIds, logits: p.logits }) + '\n');
    } else {
      out.write(`${p.label}\t${p.score.toFixed(4)}\t${p.text}\n`);
    }
  }
}
