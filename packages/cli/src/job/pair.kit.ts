/**
 * Kit for sentence-pair jobs (`task.data.type: "pairs"`): loads textA/textB rows, encodes
 * `[CLS] a [SEP] b [SEP]` with the teacher's tokenizer (or a WordPiece vocabulary built from the data),
 * and builds sequence classifiers (or regression heads) of any encoder family.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DistillModel } from '@distillery/core';
import {
  BatchIterator,
  LabelMap,
  WordPieceTokenizer,
  buildWordPieceVocab,
  encodePairExamples,
  loadPairs,
  loadTokenizer,
  makeBatches,
  shuffled,
  type EncodedBatch,
  type PairExample,
  type TextTokenizer,
} from '@distillery/data';
import { bertAdaptor, bertConfig, readHfConfig, type EncoderModel } from '@distillery/models';
import type { Kit } from './kits.js';
import type { JobConfig } from './schema.js';
import { EncoderBuilder } from './encoders.js';
import type { TaskInfo } from './task-kits.js';

type PairsData = Extract<JobConfig['task']['data'], { type: 'pairs' }>;

/** Train/test pairs of the config (held-out fraction when no test file), cut to maxExamples. */
function loadSplits(d: PairsData, seed: number): { train: PairExample[]; test: PairExample[] } {
  const opts = { textAField: d.textAField, textBField: d.textBField, labelField: d.labelField };
  let train = loadPairs(d.train, opts).examples;
  let test: PairExample[];
  if (d.test) test = loadPairs(d.test, opts).examples;
  else {
    const mixed = shuffled(train, seed);
    const n = Math.max(1, Math.round(mixed.length * d.testFraction));
    test = mixed.slice(0, n);
    train = mixed.slice(n);
  }
  if (d.maxExamples) {
    train = shuffled(train, seed).slice(0, d.maxExamples);
    test = shuffled(test, seed).slice(0, d.maxExamples);
  }
  return { train, test };
}

/** The pair kit and what the job log and summary say about the data. */
// eslint-disable-next-line @typescript-eslint/require-await -- async so that config errors thrown while building the kit reach callers as rejections
export async function pairKit(cfg: JobConfig, d: PairsData): Promise<{ kit: Kit<EncodedBatch>; info: TaskInfo }> {
  const seed = cfg.training.seed;
  const { train, test } = loadSplits(d, seed);
  const t = cfg.teacher.model;
  const dir = t.type === 'bert' || t.type === 'distilbert' ? t.pretrained : undefined;
  const maxLength = cfg.task.maxLength;
  const tokenizer: TextTokenizer = dir
    ? loadTokenizer(dir, { maxLength })
    : new WordPieceTokenizer(
        buildWordPieceVocab(
          train.flatMap((e) => [e.textA, e.textB]),
          { minFreq: 2 },
        ),
        { maxLength },
      );
  // Label order: the pretrained teacher's id2label when it has one, else sorted names.
  const teacherLabels = dir ? readHfConfig(dir).id2label : undefined;
  const labels = d.regression
    ? new LabelMap(['score'])
    : teacherLabels
      ? new LabelMap(teacherLabels)
      : LabelMap.fromLabels([...train, ...test].map((e) => e.label!));
  const encOpts = { maxLength, truncation: d.truncation, regression: d.regression };
  const tr = encodePairExamples(train, tokenizer, labels, encOpts);
  const te = encodePairExamples(test, tokenizer, labels, encOpts);
  const extra = d.regression ? { problem_type: 'regression' } : {};
  const builder = new EncoderBuilder('sequence', () =>
    dir
      ? readHfConfig(dir)
      : bertConfig({
          vocabSize: tokenizer.vocabSize,
          maxPositionEmbeddings: maxLength,
          id2label: [...labels.names],
          extra,
        }),
  );
  const logits = (m: DistillModel<EncodedBatch>, b: EncodedBatch) =>
    (m as EncoderModel).forward(b, { training: false, outputHiddenStates: false, outputAttentions: false }).logits;
  const kit: Kit<EncodedBatch> = {
    trainSource: (s) =>
      new BatchIterator(tr, { batchSize: cfg.task.batchSize, shuffle: true, seed: s, bucketPools: 8 }),
    testBatches: () => makeBatches(te, { batchSize: 128 }),
    build: (m, s, role) => builder.build(m, s, role),
    adaptor: bertAdaptor,
    // Regression: accuracy is not defined; the metrics below report MSE and Pearson r instead.
    predict: (m, b) =>
      d.regression ? new Int32Array(0) : tf.tidy(() => tf.argMax(logits(m, b), -1).dataSync() as Int32Array),
    labelsOf: (b) => (d.regression ? new Int32Array(0) : b.labels!),
    metrics: d.regression
      ? // eslint-disable-next-line @typescript-eslint/require-await -- Kit.metrics returns a Promise; async turns a throw into a rejection
        async (m) => {
          const pred: number[] = [];
          const gold: number[] = [];
          for (const b of makeBatches(te, { batchSize: 128 })) {
            pred.push(...tf.tidy(() => Array.from(logits(m, b).dataSync())));
            gold.push(...Array.from(b.targets!));
          }
          return regressionMetrics(pred, gold);
        }
      : undefined,
  };
  return {
    kit,
    info: {
      name: `${d.train} (sentence pairs${d.regression ? ', regression' : ''})`,
      train: tr.length,
      test: te.length,
      labels: d.regression ? 1 : labels.size,
      labelMap: labels,
    },
  };
}

/** MSE and Pearson correlation (the STS-B metric). */
export function regressionMetrics(pred: readonly number[], gold: readonly number[]): { mse: number; pearson: number } {
  const n = pred.length || 1;
  const mp = pred.reduce((a, b) => a + b, 0) / n;
  const mg = gold.reduce((a, b) => a + b, 0) / n;
  let sxy = 0,
    sxx = 0,
    syy = 0,
    se = 0;
  pred.forEach((p, i) => {
    const g = gold[i]!;
    sxy += (p - mp) * (g - mg);
    sxx += (p - mp) ** 2;
    syy += (g - mg) ** 2;
    se += (p - g) ** 2;
  });
  return { mse: se / n, pearson: sxx && syy ? sxy / Math.sqrt(sxx * syy) : 0 };
}
