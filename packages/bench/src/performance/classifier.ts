/**
 * The one thing a benchmark asks of a model: classify a list of texts. A tfjs Hugging Face folder
 * is wrapped here; ONNX models come from `@distillery/onnx` (`createClassifier`) when installed.
 */
import { DistilleryError } from '@distillery/core';
import { loadTokenizer } from '@distillery/data';
import { loadHfModel, predictTexts, type BertBase } from '@distillery/models';

/** A text classifier (tfjs, ONNX Runtime, or anything else with this shape). */
export interface Classifier {
  /** Labels and softmax scores, in input order. */
  predict(texts: string[]): Promise<{ label: string; score: number }[]>;
  /** Number of parameters, when the runtime knows it. */
  readonly parameters?: number;
  /** Backend or execution provider, for the results. */
  readonly backend?: string;
  dispose?(): void | Promise<void>;
}

/** The runtimes `distillery bench` knows. */
export type Runtime = 'tfjs' | 'onnx';

/** Options of {@link tfjsClassifier}. */
export interface TfjsClassifierOptions {
  /** Token limit (use the training config's `task.maxLength` to match the run's evaluation). @default the tokenizer's */
  maxLength?: number;
  /** Texts per forward pass (`distillery predict` uses 64). @default 64 */
  batchSize?: number;
}

/** A classifier over a Hugging Face BERT folder, exactly as `distillery predict` runs it. */
export async function tfjsClassifier(dir: string, opts: TfjsClassifierOptions = {}): Promise<Classifier> {
  const tokenizer = loadTokenizer(dir, opts.maxLength !== undefined ? { maxLength: opts.maxLength } : {});
  const model = (await loadHfModel(dir, { trainable: false })) as BertBase;
  if (model.head !== 'sequence') {
    model.dispose();
    throw new DistilleryError(
      'MODEL_UNSUPPORTED',
      `bench needs a sequence classifier, the folder holds a ${model.head === 'token' ? 'token classifier' : 'bare encoder'}`,
      { where: dir },
    );
  }
  const parameters = Object.values(model.parameters()).reduce((n, v) => n + v.size, 0);
  const { getBackend } = await import('@tensorflow/tfjs-core');
  return {
    parameters,
    backend: getBackend(),
    predict: (texts) =>
      new Promise((resolve) =>
        resolve(
          predictTexts(model, tokenizer, texts, { batchSize: opts.batchSize ?? 64 }).map((p) => ({
            label: p.label,
            score: p.score,
          })),
        ),
      ),
    dispose: () => model.dispose(),
  };
}

/** The part of `@distillery/onnx` the benchmark uses. */
interface OnnxModule {
  createClassifier(dir: string, opts: { runtime: 'onnx' }): Promise<Classifier>;
}

/**
 * Load a classifier for a runtime. `onnx` imports `@distillery/onnx` at run time, so the benchmark
 * works without ONNX Runtime installed until an ONNX model is asked for.
 */
export async function loadClassifier(
  model: string,
  runtime: Runtime,
  opts: TfjsClassifierOptions = {},
): Promise<Classifier> {
  if (runtime === 'tfjs') return tfjsClassifier(model, opts);
  if (runtime !== 'onnx')
    throw new DistilleryError('USAGE', `unknown runtime "${runtime as string}"`, {
      where: '--runtime',
      hint: 'tfjs or onnx',
    });
  let mod: OnnxModule;
  try {
    const name = '@distillery/onnx'; // a variable: tsc must not resolve a package that may be absent
    mod = (await import(name)) as OnnxModule;
  } catch (e) {
    throw new DistilleryError(
      'MISSING_PACKAGE',
      `--runtime onnx needs the @distillery/onnx package (${(e as Error).message.split('\n')[0]})`,
      {
        where: '--runtime onnx',
        hint: 'install it (npm install @distillery/onnx onnxruntime-node) or bench the Hugging Face folder with --runtime tfjs',
      },
    );
  }
  if (typeof mod.createClassifier !== 'function')
    throw new DistilleryError('MISSING_PACKAGE', '@distillery/onnx has no createClassifier export', {
      where: '--runtime onnx',
    });
  return mod.createClassifier(model, { runtime: 'onnx' });
}
