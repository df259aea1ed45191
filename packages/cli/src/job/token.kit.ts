/**
 * Kit for token classification (`task.data.type: "conll"`, e.g. NER): CoNLL sentences encoded word by word,
 * tags aligned to the first sub-token (the rest ignored), token-classification heads, the token adaptor
 * (logits [B, L, C] with the logits mask) and entity-level F1 with seqeval semantics.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DistillModel } from '@distillery/core';
import {
  BatchIterator,
  LabelMap,
  WordPieceTokenizer,
  buildWordPieceVocab,
  encodeTaggedSentences,
  loadConll,
  loadTokenizer,
  makeBatches,
  shuffled,
  collate,
  type EncodedBatch,
  type TaggedSentence,
  type TextTokenizer,
} from '@distillery/data';
import {
  bertConfig,
  bertTokenAdaptor,
  entityScores,
  readHfConfig,
  wordTagsFromTokens,
  type EncoderModel,
} from '@distillery/models';
import type { Kit } from './kits.js';
import type { JobConfig } from './schema.js';
import { EncoderBuilder } from './encoders.js';
import type { TaskInfo } from './task-kits.js';

type ConllData = Extract<JobConfig['task']['data'], { type: 'conll' }>;

function loadSplits(d: ConllData, seed: number): { train: TaggedSentence[]; test: TaggedSentence[] } {
  let train = loadConll(d.train, { tagColumn: d.tagColumn }).sentences;
  let test: TaggedSentence[];
  if (d.test) test = loadConll(d.test, { tagColumn: d.tagColumn }).sentences;
  else {
    const mixed = shuffled(train, seed);
    const n = Math.max(1, Math.round(mixed.length * d.testFraction));
    test = mixed.slice(0, n);
    train = mixed.slice(n);
  }
  if (d.maxExamples) train = train.slice(0, d.maxExamples);
  return { train, test };
}

/** The token-classification kit and what the job log and summary say about the data. */
// eslint-disable-next-line @typescript-eslint/require-await -- async so that config errors thrown while building the kit reach callers as rejections
export async function tokenKit(cfg: JobConfig, d: ConllData): Promise<{ kit: Kit<EncodedBatch>; info: TaskInfo }> {
  const { train, test } = loadSplits(d, cfg.training.seed);
  const t = cfg.teacher.model;
  const dir = t.type === 'bert' || t.type === 'distilbert' ? t.pretrained : undefined;
  const maxLength = cfg.task.maxLength;
  const tokenizer: TextTokenizer = dir
    ? loadTokenizer(dir, { maxLength })
    : new WordPieceTokenizer(
        buildWordPieceVocab(
          train.map((s) => s.words.join(' ')),
          { minFreq: 1 },
        ),
        { maxLength },
      );
  const labels = dir
    ? new LabelMap(readHfConfig(dir).id2label)
    : LabelMap.fromLabels([...train, ...test].flatMap((s) => s.tags));
  const opts = { maxLength, labelAllSubtokens: d.labelAllSubtokens };
  const tr = encodeTaggedSentences(train, tokenizer, labels, opts);
  const te = encodeTaggedSentences(test, tokenizer, labels, opts);
  const builder = new EncoderBuilder('token', () =>
    dir
      ? readHfConfig(dir)
      : bertConfig({ vocabSize: tokenizer.vocabSize, maxPositionEmbeddings: maxLength, id2label: [...labels.names] }),
  );
  const argmax = (m: DistillModel<EncodedBatch>, b: EncodedBatch) =>
    tf.tidy(
      () =>
        tf
          .argMax(
            (m as EncoderModel).forward(b, { training: false, outputHiddenStates: false, outputAttentions: false })
              .logits,
            -1,
          )
          .dataSync() as Int32Array,
    );
  const kit: Kit<EncodedBatch> = {
    trainSource: (s) =>
      new BatchIterator(tr, { batchSize: cfg.task.batchSize, shuffle: true, seed: s, bucketPools: 8 }),
    testBatches: () => makeBatches(te, { batchSize: 64 }),
    build: (m, s, role) => builder.build(m, s, role),
    adaptor: bertTokenAdaptor,
    // Token accuracy over labelled positions (run.ts skips labels < 0).
    predict: argmax,
    labelsOf: (b) => b.labels!,
    // eslint-disable-next-line @typescript-eslint/require-await -- Kit.metrics returns a Promise; async turns a throw into a rejection
    metrics: async (m) => {
      const pred: string[][] = [];
      for (let s = 0; s < te.length; s += 64) {
        const part = te.slice(s, s + 64);
        const batch = collate(part, tokenizer.padId);
        const ids = argmax(m, batch);
        part.forEach((e, r) =>
          pred.push(
            wordTagsFromTokens(
              e.wordIds,
              ids.subarray(r * batch.seqLen, (r + 1) * batch.seqLen),
              test[s + r]!.words.length,
              labels.names,
            ),
          ),
        );
      }
      const sc = entityScores(
        test.map((x) => x.tags),
        pred,
      );
      return { entityF1: sc.f1, entityPrecision: sc.precision, entityRecall: sc.recall };
    },
  };
  return {
    kit,
    info: {
      name: `${d.train} (token classification, ${labels.size} tags)`,
      train: tr.length,
      test: te.length,
      labels: labels.size,
      labelMap: labels,
    },
  };
}
