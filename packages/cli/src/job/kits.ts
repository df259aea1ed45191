/**
 * A "kit" turns task data and a model config into what the distillers need: batches, models,
 * the adaptor and a predict function. One kit per model family (MLP on hashed bag-of-words here;
 * BERT in bert.kit.ts).
 */
import {
  MlpClassifier,
  mlpAdaptor,
  type Adaptor,
  type BatchSource,
  type DistillModel,
  type FeatureBatch,
} from '@distillery/core';
import { shuffled, type Example, type LabelMap } from '@distillery/data';
import type { ModelConfig } from './schema.js';
import { featurize } from './text-features.js';

export interface Kit<B> {
  /** Training batches, reshuffled each epoch. */
  trainSource(seed: number): BatchSource<B>;
  /** Fixed evaluation batches of the test split. */
  testBatches(): B[];
  /** Fixed evaluation batches of other examples (the validation split). */
  evalBatches?(examples: Example[]): B[];
  /** Batches the student distils on when they differ from `trainSource`'s (labelled + `task.unlabelled` rows). */
  distillSource?(seed: number): BatchSource<B>;
  /** Tokenizer files for an exported model folder (BERT), by file name. */
  tokenizerFiles?(): Record<string, string>;
  build(cfg: ModelConfig, seed: number, role: 'teacher' | 'student'): Promise<DistillModel<B>>;
  adaptor: Adaptor<B, never>;
  /** The student's adaptor when it differs from the teacher's (extended label space); default `adaptor`. */
  studentAdaptor?: Adaptor<B, never>;
  /** Class ids (a promise for async models such as the ONNX teacher). */
  predict(model: DistillModel<B>, batch: B): Int32Array | Promise<Int32Array>;
  /** Gold labels of a batch; negative labels (ignored token positions) do not count in accuracy. */
  labelsOf(batch: B): Int32Array;
  /** Task metrics besides accuracy (entity F1 for token tasks, MSE/Pearson for regression) on the test data. */
  metrics?(model: DistillModel<B>): Promise<Record<string, number>>;
}

interface Featurized {
  x: Float32Array;
  y: number;
}

/** Kit for bag-of-words MLPs. */
export function mlpKit(
  train: Example[],
  test: Example[],
  labels: LabelMap,
  opts: { features: number; batchSize: number },
): Kit<FeatureBatch> {
  const dim = opts.features;
  const enc = (xs: Example[]): Featurized[] => xs.map((e) => ({ x: featurize(e.text, dim), y: labels.id(e.label!) }));
  const tr = enc(train);
  const te = enc(test);
  const batches = (items: Featurized[]): FeatureBatch[] => {
    const out: FeatureBatch[] = [];
    for (let i = 0; i < items.length; i += opts.batchSize) {
      const part = items.slice(i, i + opts.batchSize);
      const features = new Float32Array(part.length * dim);
      part.forEach((p, j) => features.set(p.x, j * dim));
      out.push({ features, labels: Int32Array.from(part, (p) => p.y), batchSize: part.length, dim });
    }
    return out;
  };
  return {
    trainSource: (seed) => ({
      length: Math.ceil(tr.length / opts.batchSize),
      epoch: (e) => batches(shuffled(tr, seed + e)),
      // Epoch e's order is shuffled(train, seed + e): recorded in checkpoints' data cursor.
      describe: () => ({
        kind: 'mlpKit',
        examples: tr.length,
        batchSize: opts.batchSize,
        seed,
        shuffleSeedOfEpoch: 'seed + epoch',
      }),
    }),
    testBatches: () => batches(te),
    evalBatches: (xs) => batches(enc(xs)),
    // eslint-disable-next-line @typescript-eslint/require-await -- Kit.build returns a Promise; async turns the type check's throw into a rejection
    build: async (cfg, seed) => {
      if (cfg.type !== 'mlp') throw new Error('mlpKit builds only mlp models');
      return new MlpClassifier({
        inputDim: dim,
        hidden: cfg.hidden,
        numLabels: labels.size,
        dropout: cfg.dropout,
        seed,
      });
    },
    adaptor: mlpAdaptor,
    predict: (m, b) => (m as MlpClassifier).predict(b),
    labelsOf: (b) => b.labels!,
  };
}
