/**
 * `distillery predict --model DIR --input FILE [--json] [--batch-size N]`: classify texts with a Hugging
 * Face BERT folder (config.json + model.safetensors + tokenizer files).
 * @packageDocumentation
 */
import { extname } from 'node:path';
import { Option, type Command } from 'commander';
import { DistilleryError, initBackend } from '@distillery/core';
import { loadJsonl, loadTokenizer, readTextFile, type TruncationStrategy } from '@distillery/data';
import { loadHfModel, predictTexts, type Prediction } from '@distillery/models';
import { createClassifier } from '@distillery/onnx';
import { action, commonOptions, type CliContext, type CommonOptions, positiveInt } from './common.js';
import { predictPairsToStream, readPredictPairs } from './predict-pairs.js';

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
  /** One JSON document: `{ predictions: [{ text, label, score, input_ids, logits }, …] }`. */
  json?: boolean;
  /** One JSON object per line (streams): text, label, score, input_ids, logits. */
  jsonl?: boolean;
  batchSize?: number;
  /** How sentence pairs longer than the model's limit are cut. @default 'longest_first' */
  truncation?: TruncationStrategy;
  /** Where results go (default stdout). */
  out?: NodeJS.WritableStream;
}

/** Texts of a `.txt` or `.jsonl` input file; errors name the file (and line for JSONL). */
export function readPredictInputs(file: string): string[] {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson')
    return loadJsonl(file, { labelOptional: true }).examples.map((e) => e.text);
  if (ext === '.txt' || ext === '') {
    return readTextFile(file)
      .split('\n')
      .map((l) => l.replace(/\r$/, ''))
      .filter((l) => l.trim() !== '');
  }
  throw new DistilleryError('DATA_FORMAT', `unsupported input type "${ext}"`, {
    where: file,
    hint: 'use .txt (one text per line) or .jsonl (a "text" field per line)',
  });
}

/**
 * Print, per input text, the predicted label and its softmax probability (`label<TAB>score<TAB>text`),
 * or with `jsonl` one object per line `{ text, label, score, input_ids, logits }`, or with `json` one
 * document `{ predictions: [...] }` of the same objects — the same for both runtimes.
 */
export async function predictCommand(opts: PredictCommandOptions): Promise<void> {
  const out = opts.out ?? process.stdout;
  const batchSize = opts.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DistilleryError('CONFIG_INVALID', `batch size must be a positive integer, got ${opts.batchSize}`, {
      where: '--batch-size',
    });
  }
  // A JSONL file whose rows have text_a/text_b (or textA/textB) holds sentence pairs.
  const pairs = readPredictPairs(opts.input);
  const texts = pairs ? [] : readPredictInputs(opts.input);
  const runtime = opts.runtime ?? 'tfjs';
  if (runtime !== 'tfjs' && runtime !== 'onnx')
    throw new DistilleryError('USAGE', `unknown runtime "${runtime}"`, { where: '--runtime', hint: 'tfjs or onnx' });
  if (runtime === 'onnx') {
    if (pairs)
      throw new DistilleryError('CONFIG_INVALID', 'sentence pairs are predicted with the tfjs runtime', {
        where: '--runtime',
        hint: 'drop --runtime onnx for a pairs file',
      });
    const clf = await createClassifier(opts.model, { runtime: 'onnx', batchSize, tokenizer: opts.tokenizer });
    try {
      writePredictions(await clf.predictDetailed(texts), opts, out);
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
      throw new DistilleryError(
        'MODEL_UNSUPPORTED',
        `predict needs a sequence classifier, the folder holds a ${model.head === 'token' ? 'token classifier' : 'bare encoder'}`,
        { where: opts.model },
      );
    }
    if (pairs)
      return predictPairsToStream(model, tokenizer, pairs, {
        batchSize,
        json: opts.json,
        jsonl: opts.jsonl,
        out,
        truncation: opts.truncation,
      });
    writePredictions(predictTexts(model, tokenizer, texts, { batchSize }), opts, out);
  } finally {
    model.dispose();
  }
}

/** The output of both runtimes: `label<TAB>score<TAB>text`, one JSON object per line, or one document. */
function writePredictions(
  preds: readonly Prediction[],
  opts: Pick<PredictCommandOptions, 'json' | 'jsonl'>,
  out: NodeJS.WritableStream,
): void {
  const rows = preds.map((p) => ({
    text: p.text,
    label: p.label,
    score: p.score,
    input_ids: p.inputIds,
    logits: p.logits,
  }));
  if (opts.json) out.write(JSON.stringify({ predictions: rows }) + '\n');
  else if (opts.jsonl) for (const r of rows) out.write(JSON.stringify(r) + '\n');
  else for (const r of rows) out.write(`${r.label}\t${r.score.toFixed(4)}\t${r.text}\n`);
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('predict')
    .description('classify texts with a Hugging Face model folder (tfjs) or an ONNX model (ONNX Runtime)');
  commonOptions(cmd, { json: 'print one JSON document: {predictions: [{text, label, score, input_ids, logits}]}' })
    .requiredOption(
      '--model <path>',
      'Hugging Face model folder (config.json, model.safetensors, tokenizer); with --runtime onnx a .onnx file or a folder holding one',
    )
    .requiredOption(
      '--input <file>',
      'texts: .txt (one per line) or .jsonl (a "text" field per line, or text_a/text_b for sentence pairs)',
    )
    .addOption(new Option('--runtime <name>', 'inference runtime').choices(['tfjs', 'onnx']).default('tfjs'))
    .option('--tokenizer <dir>', 'ONNX: folder with the tokenizer and config.json, when not beside the .onnx file')
    .option('--jsonl', 'print one JSON object per line instead (streams)')
    .option('--batch-size <n>', 'texts per forward pass', positiveInt, 64)
    .addOption(
      new Option(
        '--truncation <strategy>',
        'sentence pairs (rows with text_a/text_b): what to cut when a pair is too long',
      ).choices(['longest_first', 'only_first', 'only_second', 'do_not_truncate']),
    )
    .action(
      action(
        ctx,
        async (
          o: CommonOptions & {
            model: string;
            input: string;
            runtime: string;
            tokenizer?: string;
            jsonl?: boolean;
            batchSize: number;
            truncation?: TruncationStrategy;
          },
        ) => {
          await predictCommand({
            model: o.model,
            input: o.input,
            runtime: o.runtime,
            tokenizer: o.tokenizer,
            json: o.json,
            jsonl: o.jsonl,
            batchSize: o.batchSize,
            truncation: o.truncation,
            out: ctx.out,
          });
          return 0;
        },
      ),
    );
}
