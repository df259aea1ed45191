/**
 * `createClassifier(dir, { runtime })`: what an app embeds — `predict(texts)` giving labels and scores
 * in the shape of transformers' `pipeline("text-classification")`, on tfjs or ONNX Runtime.
 * @packageDocumentation
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DistilleryError, initBackend } from '@distillery/core';
import { loadTokenizer, type TextTokenizer } from '@distillery/data';
import { loadHfModel, predictTexts, readHfConfig, type Prediction } from '@distillery/models';
import { decodeModel, tensorDims } from '../proto.js';
import { OnnxSession, readOnnxFile, type OnnxSessionOptions } from '../session.js';
import { predictTextsOnnx } from './predict.js';

/** Runtimes a classifier can run on. */
export type Runtime = 'tfjs' | 'onnx';

/** Options of {@link createClassifier}. */
export interface ClassifierOptions {
  /** @default 'tfjs' for a folder without ONNX file, 'onnx' for a .onnx path or a folder holding one */
  runtime?: Runtime;
  /** ONNX: use `onnx/model_quantized.onnx` (int8) of a transformers.js folder. @default false */
  quantized?: boolean;
  /** Texts per forward pass. @default 64 */
  batchSize?: number;
  /** ONNX Runtime session options. */
  session?: OnnxSessionOptions;
  /** ONNX: folder with the tokenizer files and config.json (labels). @default the model file's folder */
  tokenizer?: string;
}

/** One result, as transformers' text-classification pipeline returns it. */
export interface ClassificationResult {
  label: string;
  score: number;
}

/** A loaded classifier. */
export interface TextClassifier {
  readonly runtime: Runtime;
  /** The model file or folder in use. */
  readonly source: string;
  /** Top label and its softmax probability per text. */
  predict(texts: string | readonly string[]): Promise<ClassificationResult[]>;
  /** Full predictions (label id, logits, input ids) per text. */
  predictDetailed(texts: readonly string[]): Promise<Prediction[]>;
  dispose(): Promise<void>;
}

/** Where a model's ONNX file and its folder (config.json, tokenizer) are. */
export interface OnnxLocation {
  file: string;
  /** Folder with config.json and tokenizer files. */
  modelDir: string;
}

/**
 * Resolve a `.onnx` file or a folder holding one (`model.onnx`, or transformers.js's `onnx/model.onnx`,
 * `onnx/model_quantized.onnx` with `quantized`). The tokenizer/config folder is the file's folder, or its
 * parent for files inside `onnx/`.
 */
export function resolveOnnxPath(path: string, quantized = false): OnnxLocation {
  if (!existsSync(path)) throw new DistilleryError('FILE_NOT_FOUND', 'no such model file or folder', { where: path });
  if (!statSync(path).isDirectory()) {
    const dir = dirname(path);
    return {
      file: path,
      modelDir: basename(dir) === 'onnx' && !existsSync(join(dir, 'config.json')) ? dirname(dir) : dir,
    };
  }
  const names = quantized ? ['model_quantized.onnx', 'onnx/model_quantized.onnx'] : ['model.onnx', 'onnx/model.onnx'];
  for (const n of names) if (existsSync(join(path, n))) return { file: join(path, n), modelDir: path };
  throw new DistilleryError('FILE_NOT_FOUND', `no ${names.join(' or ')} in the folder`, {
    where: path,
    hint: 'export one with: distillery export --model <dir> --format onnx --out <dir>',
  });
}

/** True when the folder (or file) holds an ONNX model. */
export function hasOnnx(path: string): boolean {
  if (!existsSync(path)) return false;
  if (!statSync(path).isDirectory()) return path.endsWith('.onnx');
  return existsSync(join(path, 'model.onnx')) || existsSync(join(path, 'onnx', 'model.onnx'));
}

/**
 * Check that a graph fits a tokenizer: its inputs are ones a tokenizer produces, and its word embedding
 * table has a row for every token id.
 */
export function checkGraphAgainstTokenizer(
  session: OnnxSession,
  bytes: Uint8Array,
  tokenizer: TextTokenizer,
  tokenizerDir: string,
): void {
  const known = ['input_ids', 'attention_mask', 'token_type_ids'];
  const odd = session.inputNames.filter((n) => !known.includes(n));
  if (odd.length || !session.inputNames.includes('input_ids')) {
    throw new DistilleryError(
      'ONNX_TOKENIZER_MISMATCH',
      `the graph's inputs (${session.inputNames.join(', ')}) are not what a tokenizer produces (${known.join(', ')})`,
      {
        where: session.path,
        hint: 'export the model with distillery export, or use OnnxTeacher with an inputs map',
      },
    );
  }
  const g = decodeModel(bytes).graph!;
  const gather = g.node?.find((n) => n.opType === 'Gather' && n.input?.[1] === 'input_ids');
  const table = gather && g.initializer?.find((t) => t.name === gather.input![0]);
  const rows = table ? tensorDims(table)[0]! : undefined;
  if (rows !== undefined && tokenizer.vocabSize > rows) {
    throw new DistilleryError(
      'ONNX_TOKENIZER_MISMATCH',
      `the tokenizer has ${tokenizer.vocabSize} tokens but the graph's word embedding has ${rows} rows`,
      {
        where: `${session.path} (tokenizer from ${tokenizerDir})`,
        hint: "the tokenizer files do not belong to this model: put the model's own tokenizer.json/vocab.txt beside it",
      },
    );
  }
}

/** Labels by id from config.json (`LABEL_i` without one). */
function labelsOf(modelDir: string, numLabels: number): string[] {
  if (existsSync(join(modelDir, 'config.json'))) return readHfConfig(modelDir).id2label;
  return Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`);
}

/** Load a classifier from a Hugging Face folder, a transformers.js folder or a `.onnx` file. */
export async function createClassifier(path: string, opts: ClassifierOptions = {}): Promise<TextClassifier> {
  const runtime = opts.runtime ?? (hasOnnx(path) ? 'onnx' : 'tfjs');
  const batchSize = opts.batchSize ?? 64;
  const wrap = (preds: Prediction[]) => preds.map((p) => ({ label: p.label, score: p.score }));
  const list = (t: string | readonly string[]) => (typeof t === 'string' ? [t] : t);
  if (runtime === 'tfjs') {
    await initBackend();
    const model = await loadHfModel(path, { trainable: false });
    if (model.head !== 'sequence') {
      model.dispose();
      throw new DistilleryError('MODEL_UNSUPPORTED', 'a text classifier needs a sequence-classification model', {
        where: path,
      });
    }
    const tokenizer = loadTokenizer(path);
    const detailed = (texts: readonly string[]) =>
      new Promise<Prediction[]>((resolve) => resolve(predictTexts(model, tokenizer, texts, { batchSize })));
    return {
      runtime,
      source: path,
      predictDetailed: detailed,
      predict: async (t) => wrap(await detailed(list(t))),
      dispose: () => new Promise<void>((resolve) => resolve(model.dispose())),
    };
  }
  if (runtime !== 'onnx')
    throw new DistilleryError('CONFIG_INVALID', `unknown runtime "${runtime as string}"`, {
      where: 'runtime',
      hint: 'tfjs or onnx',
    });
  const found = resolveOnnxPath(path, opts.quantized);
  const loc = opts.tokenizer ? { ...found, modelDir: opts.tokenizer } : found;
  if (!existsSync(join(loc.modelDir, 'tokenizer.json')) && !existsSync(join(loc.modelDir, 'vocab.txt'))) {
    throw new DistilleryError('TOKENIZER_MISSING', `no tokenizer.json or vocab.txt beside the model`, {
      where: loc.modelDir,
      hint: 'name the folder holding the tokenizer and config.json (CLI: --tokenizer <dir>), or export with --out <dir> to get a self-contained folder',
    });
  }
  const bytes = readOnnxFile(loc.file);
  const session = await OnnxSession.create(loc.file, opts.session, bytes);
  try {
    const tokenizer = loadTokenizer(loc.modelDir);
    checkGraphAgainstTokenizer(session, bytes, tokenizer, loc.modelDir);
    const logits = session.outputs.find((o) => o.name === 'logits');
    if (!logits)
      throw new DistilleryError('ONNX_OUTPUT_UNKNOWN', 'the graph has no output "logits"', {
        where: loc.file,
        hint: `the graph's outputs are ${session.outputNames.join(', ')}`,
      });
    const c = logits.shape[logits.shape.length - 1];
    const id2label = labelsOf(loc.modelDir, typeof c === 'number' ? c : 0);
    const detailed = (texts: readonly string[]) => predictTextsOnnx(session, tokenizer, texts, id2label, { batchSize });
    return {
      runtime,
      source: loc.file,
      predictDetailed: detailed,
      predict: async (t) => wrap(await detailed(list(t))),
      dispose: () => session.dispose(),
    };
  } catch (e) {
    await session.dispose();
    throw e;
  }
}
