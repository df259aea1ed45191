/**
 * Kit for masked-LM distillation (`task.data.type: "mlm"`, DistilBERT's recipe): a plain-text corpus, dynamic
 * masking per epoch (seeded by the run's seed, so resume is exact), masked-LM heads on teacher and student,
 * the MLM adaptor (KD over the vocabulary at masked positions only). "Accuracy" is masked-token accuracy.
 */
import { statSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { DistillModel } from '@distillery/core';
import {
  LabelMap,
  MlmBatches,
  loadClinc150,
  WordPieceTokenizer,
  buildWordPieceVocab,
  loadTextCorpus,
  loadTokenizer,
  maskingFromTokenizer,
  shuffled,
  wordPieceTokenizerFiles,
  type EncodedBatch,
  type TextTokenizer,
} from '@distillery/data';
import { bertConfig, bertMlmAdaptor, readHfConfig, type EncoderModel } from '@distillery/models';
import type { Kit } from './kits.js';
import type { JobConfig } from './schema.js';
import { EncoderBuilder } from './encoders.js';
import type { TaskInfo } from './task-kits.js';

type MlmData = Extract<JobConfig['task']['data'], { type: 'mlm' }>;

/** The masked-LM kit and what the job log and summary say about the data. */
// eslint-disable-next-line @typescript-eslint/require-await -- async so that config errors thrown while building the kit reach callers as rejections
export async function mlmKit(cfg: JobConfig, d: MlmData): Promise<{ kit: Kit<EncodedBatch>; info: TaskInfo }> {
  const seed = cfg.training.seed;
  const clinc = statSync(d.train, { throwIfNoEntry: false })?.isDirectory();
  // A CLINC150 folder: its texts as unlabelled text (train split; its test split held out).
  const c = clinc ? loadClinc150(d.train) : undefined;
  let train = c
    ? c.train.map((e) => e.text)
    : loadTextCorpus(d.train, { textField: d.textField, encoding: d.encoding });
  let test: string[];
  if (c) test = c.test.map((e) => e.text);
  else if (d.test) test = loadTextCorpus(d.test, { textField: d.textField, encoding: d.encoding });
  else {
    const mixed = shuffled(train, seed);
    const n = Math.max(1, Math.round(mixed.length * d.testFraction));
    test = mixed.slice(0, n);
    train = mixed.slice(n);
  }
  if (d.maxExamples) {
    train = train.slice(0, d.maxExamples);
    test = test.slice(0, Math.max(50, Math.round(d.maxExamples * d.testFraction)));
  }
  const t = cfg.teacher.model;
  const dir = t.type === 'bert' || t.type === 'distilbert' ? t.pretrained : undefined;
  const maxLength = cfg.task.maxLength;
  const tokenizer: TextTokenizer = dir
    ? loadTokenizer(dir, { maxLength })
    : new WordPieceTokenizer(buildWordPieceVocab(train, { maxSize: d.vocabSize }), { maxLength });
  const masking = maskingFromTokenizer(tokenizer, { wholeWord: d.wholeWord, mlmProbability: d.mlmProbability });
  const builder = new EncoderBuilder('mlm', () =>
    dir ? readHfConfig(dir) : bertConfig({ vocabSize: tokenizer.vocabSize, maxPositionEmbeddings: maxLength }),
  );
  // Fixed masks for evaluation (seed + 1e6), so checkpoints are compared on the same positions.
  const testBatches = new MlmBatches(test, tokenizer, masking, {
    batchSize: 64,
    seed: seed + 1_000_000,
    shuffle: false,
  }).epoch(0);
  const kit: Kit<EncodedBatch> = {
    trainSource: (s) =>
      new MlmBatches(train, tokenizer, masking, { batchSize: cfg.task.batchSize, seed: s, maxLength }),
    testBatches: () => testBatches,
    tokenizerFiles: () => (tokenizer instanceof WordPieceTokenizer ? wordPieceTokenizerFiles(tokenizer) : {}),
    build: (m, s, role) => builder.build(m, s, role),
    adaptor: bertMlmAdaptor,
    // Logits are [M, V] at the masked positions: predictions line up with labelsOf.
    predict: (m: DistillModel<EncodedBatch>, b: EncodedBatch) =>
      tf.tidy(
        () =>
          tf
            .argMax(
              (m as EncoderModel).forward(b, { training: false, outputHiddenStates: false, outputAttentions: false })
                .logits,
              -1,
            )
            .dataSync() as Int32Array,
      ),
    labelsOf: (b) => b.labels!.filter((v) => v >= 0),
  };
  const masked = testBatches.reduce((n, b) => n + b.labels!.filter((v) => v >= 0).length, 0);
  return {
    kit,
    info: {
      name: `${d.train} (masked LM, ${tokenizer.vocabSize} tokens, ${masked} masked test tokens)`,
      train: train.length,
      test: test.length,
      labels: tokenizer.vocabSize,
      labelMap: new LabelMap(['LABEL_0', 'LABEL_1']),
    },
  };
}
