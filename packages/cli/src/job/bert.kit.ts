/**
 * Kit for BERT classifiers: tokenizes with the teacher's tokenizer (or builds a WordPiece vocab
 * for from-scratch models), batches with dynamic padding and length bucketing, and builds teacher
 * and student models from Hugging Face folders or smaller configs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Adaptor } from '@distillery/core';
import { BatchIterator, WordPieceTokenizer, buildWordPieceVocab, encodeExamples, loadTokenizer, makeBatches, type EncodedBatch, type TextTokenizer } from '@distillery/data';
import { bertAdaptor, bertConfig, readHfConfig, type BertConfig, type EncoderModel } from '@distillery/models';
import type { Kit } from './kits.js';
import { EncoderBuilder } from './encoders.js';
import type { TaskData } from './data.js';
import type { JobConfig } from './schema.js';

export async function bertKit(data: TaskData, cfg: JobConfig): Promise<Kit<EncodedBatch>> {
  const t = cfg.teacher.model;
  const pretrainedDir = t.type !== 'mlp' ? t.pretrained : undefined;
  const maxLength = cfg.task.maxLength;
  const tokenizer: TextTokenizer = pretrainedDir
    ? loadTokenizer(pretrainedDir, { maxLength })
    : new WordPieceTokenizer(buildWordPieceVocab(data.train.map((e) => e.text), { minFreq: 2 }), { maxLength });
  const train = encodeExamples(data.train, tokenizer, data.labels, { maxLength });
  const test = encodeExamples(data.test, tokenizer, data.labels, { maxLength });
  const batchSize = cfg.task.batchSize;
  const builder = new EncoderBuilder('sequence', () => baseConfig());
  const baseConfig = (): BertConfig =>
    pretrainedDir
      ? readHfConfig(pretrainedDir)
      : bertConfig({ vocabSize: tokenizer.vocabSize, maxPositionEmbeddings: maxLength, numLabels: data.labels.size, id2label: [...data.labels.names] });
  return {
    trainSource: (seed) => new BatchIterator(train, { batchSize, shuffle: true, seed, bucketPools: 8 }),
    testBatches: () => makeBatches(test, { batchSize: 128 }),
    build: (m, seed, role) => builder.build(m, seed, role),
    adaptor: bertAdaptor as Adaptor<EncodedBatch, never>,
    predict: (m, b) => tf.tidy(() => tf.argMax((m as EncoderModel).forward(b, { training: false, outputHiddenStates: false, outputAttentions: false }).logits, -1).dataSync() as Int32Array),
    labelsOf: (b) => b.labels!,
  };
}
