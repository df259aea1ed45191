/**
 * Export a Hugging Face BERT folder to ONNX on disk: one `.onnx` file, or the folder layout of
 * transformers.js (config.json, tokenizer files, onnx/model.onnx, onnx/model_quantized.onnx for int8,
 * onnx/model_fp16.onnx for fp16). Every written graph is loaded back in onnxruntime-node and checked
 * against the tfjs model on probe texts.
 * @packageDocumentation
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DistilleryError, writeFileAtomic } from '@distillery/core';
import { loadTokenizer } from '@distillery/data';
import { BertBase, loadHfModel, predictTexts, readHfConfig } from '@distillery/models';
import { decodeModel, diagnoseOnnxBytes, encodeModel } from '../proto.js';
import { OnnxSession, readOnnxFile } from '../session.js';
import { quantizeInt8 } from '../quantize/int8.js';
import { convertFp16 } from '../quantize/fp16.js';
import { predictTextsOnnx } from '../runtime/predict.js';
import { exportBertOnnx, type OnnxExportOptions } from './bert.js';
import { writeTfjsGraphModel } from './tfjs-write.js';

/** Architectures (config.json `architectures[0]`) the exporter knows. */
export const EXPORTABLE_ARCHITECTURES = [
  'BertForSequenceClassification',
  'BertForTokenClassification',
  'BertModel',
] as const;

/** Quantization of an export. */
export type QuantizeMode = 'none' | 'int8' | 'fp16';

/** Options of {@link exportModel}. */
export interface ExportModelOptions extends OnnxExportOptions {
  /** `onnx`, or `tfjs` (a tf.loadGraphModel folder: model.json + weight shards; no quantization). @default 'onnx' */
  format?: 'onnx' | 'tfjs';
  /** `none`: fp32 only; `int8`: dynamic int8 MatMul/Gemm (and embeddings); `fp16`: float16 weights. @default 'none' */
  quantize?: QuantizeMode;
  /** int8 scales per output column (else per tensor). @default true */
  perChannel?: boolean;
  /** Load each written graph in ORT and compare with tfjs on probe texts. @default true */
  validate?: boolean;
  /** Texts for the validation (default: a few built-in sentences). */
  probeTexts?: string[];
}

/** One written graph. */
export interface ExportedFile {
  path: string;
  bytes: number;
  kind: 'fp32' | 'int8' | 'fp16' | 'tfjs';
  /** Max |logit difference| to tfjs on the probe texts (when validated). */
  maxAbsDiff?: number;
  /** Probe texts whose top label equals tfjs's (when validated). */
  labelAgreement?: number;
}

/** What {@link exportModel} wrote. */
export interface ExportResult {
  files: ExportedFile[];
  /** Other files (config, tokenizer) written to a folder export. */
  extras: string[];
}

const PROBES = [
  'what is my account balance',
  'set an alarm for 7 am tomorrow',
  'how do i say thank you in french',
  'tell me a joke about cats',
  'book a table for two at 8 tonight',
  'is it going to rain',
];

/** Refuse folders whose architecture the exporter cannot write, naming it. */
export function checkExportable(dir: string): void {
  const path = join(dir, 'config.json');
  if (!existsSync(path))
    throw new DistilleryError('MODEL_NOT_FOUND', 'no config.json', {
      where: dir,
      hint: 'point --model to a Hugging Face model folder (config.json + model.safetensors)',
    });
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as { architectures?: string[]; model_type?: string };
  const arch = cfg.architectures?.[0];
  if (arch && !(EXPORTABLE_ARCHITECTURES as readonly string[]).includes(arch)) {
    throw new DistilleryError(
      'EXPORT_UNSUPPORTED',
      `architecture "${arch}" has layers the ONNX exporter does not support`,
      { where: `${path}: architectures`, hint: `supported: ${EXPORTABLE_ARCHITECTURES.join(', ')}` },
    );
  }
  // Config switches that add or change layers our BERT (and so the exporter) does not have.
  const layerSwitches: [string, unknown, string][] = [
    [
      'position_embedding_type',
      (cfg as Record<string, unknown>).position_embedding_type ?? 'absolute',
      'bert.embeddings.position_embeddings (relative position embeddings)',
    ],
    [
      'is_decoder',
      (cfg as Record<string, unknown>).is_decoder ?? false,
      'bert.encoder.layer.*.attention (causal decoder attention)',
    ],
    [
      'add_cross_attention',
      (cfg as Record<string, unknown>).add_cross_attention ?? false,
      'bert.encoder.layer.*.crossattention',
    ],
  ];
  for (const [field, value, layer] of layerSwitches) {
    if (value !== 'absolute' && value !== false) {
      throw new DistilleryError(
        'EXPORT_UNSUPPORTED',
        `layer "${layer}" (${field}: ${JSON.stringify(value)}) is not supported by the exporter`,
        { where: `${path}: ${field}`, hint: 'supported: absolute position embeddings, encoder-only self-attention' },
      );
    }
  }
  if (cfg.model_type && cfg.model_type !== 'bert') {
    throw new DistilleryError(
      'EXPORT_UNSUPPORTED',
      `model_type "${cfg.model_type}" is not a BERT model; its layers cannot be exported`,
      { where: `${path}: model_type`, hint: 'supported: bert' },
    );
  }
}

/**
 * Quantize an existing ONNX file (made here or elsewhere, e.g. by PyTorch) into `out`. When a tokenizer and
 * config.json lie beside the source, the result is compared with the source on probe texts.
 */
export async function quantizeOnnxFile(
  src: string,
  out: string,
  opts: Pick<ExportModelOptions, 'quantize' | 'perChannel' | 'probeTexts'>,
): Promise<ExportResult> {
  const mode = opts.quantize ?? 'none';
  if (mode === 'none')
    throw new DistilleryError('USAGE', 'an .onnx --model needs --quantize int8 or fp16 (it is already exported)', {
      where: '--quantize',
    });
  if (!out.endsWith('.onnx'))
    throw new DistilleryError('USAGE', 'quantizing an .onnx file writes one .onnx file', {
      where: '--out',
      hint: 'e.g. --out model_quantized.onnx',
    });
  const bytes = readOnnxFile(src);
  const problem = diagnoseOnnxBytes(bytes);
  if (problem) throw new DistilleryError('MODEL_INVALID', `not a loadable ONNX model: ${problem}`, { where: src });
  const m = decodeModel(bytes);
  if (mode === 'int8') quantizeInt8(m, { perChannel: opts.perChannel, where: src });
  else convertFp16(m, src);
  const data = encodeModel(m);
  mkdirSync(dirname(out), { recursive: true });
  await writeFileAtomic(out, data);
  const file: ExportedFile = { path: out, bytes: data.length, kind: mode };
  const dir = dirname(src);
  if (
    (existsSync(join(dir, 'tokenizer.json')) || existsSync(join(dir, 'vocab.txt'))) &&
    existsSync(join(dir, 'config.json'))
  ) {
    const tok = loadTokenizer(dir);
    const labels = readHfConfig(dir).id2label;
    const probes = opts.probeTexts ?? PROBES;
    const [a, b] = [
      await OnnxSession.create(src, { intraOpThreads: 1 }, bytes),
      await OnnxSession.create(out, { intraOpThreads: 1 }, data),
    ];
    try {
      const ref = await predictTextsOnnx(a, tok, probes, labels);
      const got = await predictTextsOnnx(b, tok, probes, labels);
      file.maxAbsDiff = Math.max(...got.flatMap((p, i) => p.logits.map((v, j) => Math.abs(v - ref[i]!.logits[j]!))));
      file.labelAgreement = got.filter((p, i) => p.labelId === ref[i]!.labelId).length / probes.length;
    } finally {
      await a.dispose();
      await b.dispose();
    }
  }
  return { files: [file], extras: [] };
}

/** Export, quantize, write and validate. `out` ending in `.onnx` writes one file; anything else is a folder. */
export async function exportModel(modelDir: string, out: string, opts: ExportModelOptions = {}): Promise<ExportResult> {
  const mode = opts.quantize ?? 'none';
  if (!['none', 'int8', 'fp16'].includes(mode))
    throw new DistilleryError('CONFIG_INVALID', `unknown quantization "${mode}"`, {
      where: '--quantize',
      hint: 'int8 or fp16',
    });
  if (modelDir.endsWith('.onnx')) return quantizeOnnxFile(modelDir, out, opts);
  checkExportable(modelDir);
  const format = opts.format ?? 'onnx';
  if (format !== 'onnx' && format !== 'tfjs')
    throw new DistilleryError('USAGE', `unknown export format "${format as string}"`, {
      where: '--format',
      hint: 'onnx or tfjs',
    });
  if (format === 'tfjs' && mode !== 'none')
    throw new DistilleryError('USAGE', `--quantize ${mode} applies to ONNX exports`, {
      where: '--quantize',
      hint: 'drop --quantize for --format tfjs',
    });
  const loaded = await loadHfModel(modelDir, { trainable: false });
  if (!(loaded instanceof BertBase)) {
    loaded.dispose();
    throw new DistilleryError(
      'EXPORT_UNSUPPORTED',
      `the exporter writes BERT-family graphs; this folder holds a ${loaded.constructor.name}`,
      { where: `${modelDir}/config.json: model_type`, hint: 'export a BERT (or RoBERTa-style BERT) student' },
    );
  }
  const model = loaded;
  try {
    if (format === 'tfjs') {
      const r = await writeTfjsGraphModel(model, modelDir, out, opts.probeTexts ?? PROBES, opts.validate ?? true);
      return { files: [{ path: r.path, bytes: r.bytes, kind: 'tfjs', maxAbsDiff: r.maxAbsDiff }], extras: [] };
    }
    const make = () => exportBertOnnx(model, opts);
    const graphs: { kind: ExportedFile['kind']; bytes: Uint8Array }[] = [];
    const toFile = out.endsWith('.onnx');
    if (!toFile || mode === 'none') graphs.push({ kind: 'fp32', bytes: encodeModel(make()) });
    if (mode === 'int8') {
      const m = make();
      quantizeInt8(m, { perChannel: opts.perChannel, where: modelDir });
      graphs.push({ kind: 'int8', bytes: encodeModel(m) });
    } else if (mode === 'fp16') {
      const m = make();
      convertFp16(m, modelDir);
      graphs.push({ kind: 'fp16', bytes: encodeModel(m) });
    }
    const result: ExportResult = { files: [], extras: [] };
    const names: Record<ExportedFile['kind'], string> = {
      fp32: 'model.onnx',
      int8: 'model_quantized.onnx',
      fp16: 'model_fp16.onnx',
      tfjs: 'model.json',
    };
    for (const gr of graphs) {
      const path = toFile ? out : join(out, 'onnx', names[gr.kind]);
      mkdirSync(dirname(path), { recursive: true });
      await writeFileAtomic(path, gr.bytes);
      result.files.push({ path, bytes: gr.bytes.length, kind: gr.kind });
    }
    if (!toFile) result.extras = await writeTransformersJsFiles(modelDir, out);
    if ((opts.validate ?? true) && model.head === 'sequence') {
      for (const f of result.files)
        Object.assign(f, await validateAgainstTfjs(model, modelDir, f.path, f.kind, opts.probeTexts ?? PROBES));
    }
    return result;
  } finally {
    model.dispose();
  }
}

/** config.json and tokenizer files beside `onnx/` (transformers.js reads them there). */
async function writeTransformersJsFiles(modelDir: string, out: string): Promise<string[]> {
  const written: string[] = [];
  const cfg = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFileAtomic(
    join(out, 'config.json'),
    JSON.stringify({ ...cfg, model_type: cfg.model_type ?? 'bert' }, null, 2) + '\n',
  );
  written.push(join(out, 'config.json'));
  if (!existsSync(join(modelDir, 'tokenizer.json'))) {
    throw new DistilleryError('TOKENIZER_MISSING', 'transformers.js needs tokenizer.json, the model folder has none', {
      where: modelDir,
      hint: 'save the tokenizer with wordPieceTokenizerFiles() (it writes tokenizer.json) or export to a single .onnx file',
    });
  }
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json']) {
    if (existsSync(join(modelDir, f))) {
      copyFileSync(join(modelDir, f), join(out, f));
      written.push(join(out, f));
    }
  }
  if (!existsSync(join(modelDir, 'tokenizer_config.json'))) {
    // transformers.js requires tokenizer_config.json; a BERT tokenizer's defaults suffice.
    await writeFileAtomic(
      join(out, 'tokenizer_config.json'),
      JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: true }, null, 2) + '\n',
    );
    written.push(join(out, 'tokenizer_config.json'));
  }
  return written;
}

/** Load a written graph in ORT and compare its logits with the tfjs model's on probe texts. */
async function validateAgainstTfjs(
  model: BertBase,
  modelDir: string,
  path: string,
  kind: ExportedFile['kind'],
  probes: string[],
): Promise<Pick<ExportedFile, 'maxAbsDiff' | 'labelAgreement'>> {
  const session = await OnnxSession.create(path, { intraOpThreads: 1 });
  try {
    const tokenizer = loadTokenizer(modelDir);
    const ref = predictTexts(model, tokenizer, probes); // tidies per batch itself
    const got = await predictTextsOnnx(session, tokenizer, probes, model.config.id2label);
    let maxAbsDiff = 0;
    let agree = 0;
    got.forEach((p, i) => {
      p.logits.forEach((v, j) => (maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - ref[i]!.logits[j]!))));
      if (p.labelId === ref[i]!.labelId) agree++;
    });
    // fp32 must be exact to float rounding; quantized graphs are checked by accuracy, not here.
    if (kind === 'fp32' && !(maxAbsDiff <= 1e-4)) {
      throw new DistilleryError(
        'EXPORT_MISMATCH',
        `the exported graph differs from the tfjs model by ${maxAbsDiff} (> 1e-4) on probe texts`,
        { where: path },
      );
    }
    return { maxAbsDiff, labelAgreement: agree / probes.length };
  } finally {
    await session.dispose();
  }
}

/** Re-read an exported file's graph (for tests and tools). */
export function readGraph(path: string) {
  return decodeModel(readFileSync(path)).graph!;
}
