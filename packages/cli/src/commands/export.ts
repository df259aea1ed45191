/**
 * `distillery export --model <hf-dir> --format onnx --out <model.onnx | dir> [--quantize int8|fp16]`:
 * write a BERT-family model as ONNX (one file, or the transformers.js folder layout), loaded back in
 * onnxruntime-node and compared with the tfjs model before the command reports success.
 * @packageDocumentation
 */
import { Option, type Command } from 'commander';
import { DistilleryError, initBackend, suggest } from '@distillery/core';
import { exportModel, type ExportResult, type QuantizeMode } from '@distillery/onnx';
import { action, commonOptions, writeJson, type CliContext, type CommonOptions } from './common.js';

/** Options of {@link exportCommand}. */
export interface ExportCommandOptions {
  /** Hugging Face model folder (config.json + model.safetensors + tokenizer files), or an .onnx file to quantize. */
  model: string;
  /** `onnx` or `tfjs` (a tf.loadGraphModel folder). @default 'onnx' */
  format?: string;
  /** `model.onnx` (one file) or a folder (transformers.js layout). */
  out: string;
  /** `int8` or `fp16`; none by default. */
  quantize?: string;
  /** int8 with one scale per tensor instead of per output channel. @default false */
  perTensor?: boolean;
  /** Also output hidden states / attentions. @default false */
  hiddenStates?: boolean;
  attentions?: boolean;
  /** Skip the ORT-vs-tfjs check. @default false */
  noValidate?: boolean;
  /** Where the report goes (default stdout). */
  stream?: NodeJS.WritableStream;
}

const FORMATS = ['onnx', 'tfjs'];
const QUANT = ['int8', 'fp16'];

/** Run the export and print one line per written graph (size, parity with tfjs); resolves with the result. */
export async function exportCommand(o: ExportCommandOptions & { quiet?: boolean }): Promise<ExportResult> {
  const format = o.format ?? 'onnx';
  if (!FORMATS.includes(format)) {
    throw new DistilleryError('USAGE', `unknown export format "${format}"`, {
      where: '--format',
      hint: suggest(format, FORMATS),
    });
  }
  if (o.quantize !== undefined && !QUANT.includes(o.quantize))
    throw new DistilleryError('USAGE', `unknown quantization "${o.quantize}"`, {
      where: '--quantize',
      hint: suggest(o.quantize, QUANT),
    });
  const write = o.stream ?? process.stdout;
  await initBackend({ logger: { info: (m) => process.stderr.write(`${m}\n`) } });
  const res = await exportModel(o.model, o.out, {
    format: format as 'onnx' | 'tfjs',
    quantize: (o.quantize ?? 'none') as QuantizeMode,
    perChannel: !o.perTensor,
    hiddenStates: o.hiddenStates,
    attentions: o.attentions,
    validate: !o.noValidate,
  });
  if (o.quiet) return res;
  for (const f of res.files) {
    const agree =
      f.labelAgreement === undefined ? '' : `, same label on ${(100 * f.labelAgreement).toFixed(0)} % of probes`;
    const check = f.maxAbsDiff === undefined ? '' : `  max |Δlogit| vs tfjs ${f.maxAbsDiff.toExponential(2)}${agree}`;
    write.write(`${f.kind.padEnd(4)}  ${(f.bytes / 1e6).toFixed(2).padStart(8)} MB  ${f.path}${check}\n`);
  }
  for (const e of res.extras) write.write(`      ${e}\n`);
  return res;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('export')
    .description(
      'export a model to ONNX (a folder gets the transformers.js layout), int8/fp16 ONNX, or a tfjs graph model',
    );
  commonOptions(cmd, {
    json: 'print one JSON document: {files: [{kind, path, bytes, maxAbsDiff, labelAgreement}], extras}',
  })
    .requiredOption('--model <path>', 'Hugging Face model folder, or an .onnx file to quantize')
    .requiredOption('--out <path>', 'model.onnx (one file) or a folder (transformers.js layout / tfjs graph model)')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('onnx'))
    .addOption(new Option('--quantize <mode>', 'also write a quantized graph').choices(QUANT))
    .option('--per-tensor', 'int8 with one scale per tensor instead of per output channel')
    .option('--hidden-states', 'also output every hidden state')
    .option('--attentions', 'also output every attention map')
    .option('--no-validate', 'skip loading the graph back in ONNX Runtime and comparing it with tfjs')
    .action(
      action(
        ctx,
        async (
          o: CommonOptions & {
            model: string;
            out: string;
            format: string;
            quantize?: string;
            perTensor?: boolean;
            hiddenStates?: boolean;
            attentions?: boolean;
            validate: boolean;
          },
        ) => {
          const res = await exportCommand({
            model: o.model,
            out: o.out,
            format: o.format,
            quantize: o.quantize,
            perTensor: o.perTensor,
            hiddenStates: o.hiddenStates,
            attentions: o.attentions,
            noValidate: !o.validate,
            stream: ctx.out,
            quiet: o.json,
          });
          if (o.json) writeJson(ctx, res);
          return 0;
        },
      ),
    );
}
