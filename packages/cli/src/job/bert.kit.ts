/**
 * Kit for BERT classifiers: tokenizes with the teacher's tokenizer (or builds a WordPiece vocab
 * for from-scratch models), batches with dynamic padding and length bucketing, and builds teacher
 * and student models from Hugging Face folders or smaller configs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Adaptor, DistillModel } from '@distillery/core';
import { BatchIterator, WordPieceTokenizer, buildWordPieceVocab, wordPieceTokenizerFiles, encodeExamples, loadTokenizer, makeBatches, type EncodedBatch, type TextTokenizer } from '@distillery/data';
import { BertForSequenceClassification, bertAdaptor, bertConfig, initStudentFromTeacher, makeStudentConfig, readHfConfig, type BertConfig } from '@distillery/models';
import type { Kit } from './kits.js';
import type { TaskData } from './data.js';
import type { JobConfig, ModelConfig } from './schema.js';

export async function bertKit(data: TaskData, cfg: JobConfig): Promise<Kit<EncodedBatch>> {
  const t = cfg.teacher.model;
  const pretrainedDir = t.type === 'bert' ? t.pretrained : undefined;
  const maxLength = cfg.task.maxLength;
  const tokenizer: TextTokenizer = pretrainedDir
    ? loadTokenizer(pretrainedDir, { maxLength })
    : new WordPieceTokenizer(buildWordPieceVocab(data.train.map((e) => e.text), { minFreq: 2 }), { maxLength });
  const train = encodeExamples(data.train, tokenizer, data.labels, { maxLength });
  const test = encodeExamples(data.test, tokenizer, data.labels, { maxLength });
  const batchSize = cfg.task.batchSize;
  let teacherModel: BertForSequenceClassification | undefined;
  const baseConfig = (): BertConfig =>
    pretrainedDir
      ? readHfConfig(pretrainedDir)
      : bertConfig({ vocabSize: tokenizer.vocabSize, maxPositionEmbeddings: maxLength, numLabels: data.labels.size, id2label: [...data.labels.names] });
  const sized = (m: Extract<ModelConfig, { type: 'bert' }>): BertConfig =>
    makeStudentConfig(baseConfig(), {
      ...(m.numHiddenLayers ? { numHiddenLayers: m.numHiddenLayers } : {}),
      ...(m.hiddenSize ? { hiddenSize: m.hiddenSize } : {}),
      ...(m.numAttentionHeads ? { numAttentionHeads: m.numAttentionHeads } : {}),
      ...(m.intermediateSize ? { intermediateSize: m.intermediateSize } : {}),
    });
  return {
    trainSource: (seed) => new BatchIterator(train, { batchSize, shuffle: true, seed, bucketPools: 8 }),
    testBatches: () => makeBatches(test, { batchSize: 128 }),
    evalBatches: (xs) => makeBatches(encodeExamples(xs, tokenizer, data.labels, { maxLength }), { batchSize: 128 }),
    tokenizerFiles: () => (tokenizer instanceof WordPieceTokenizer ? wordPieceTokenizerFiles(tokenizer) : {}),
    build: async (m, seed, role) => {
      if (m.type !== 'bert') throw new Error(`a BERT job needs bert models; ${role} is "${m.type}"`);
      if (m.pretrained) {
        const model = await BertForSequenceClassification.fromPretrained(m.pretrained, { trainable: role === 'student' });
        if (role === 'teacher') teacherModel = model;
        return model as DistillModel<EncodedBatch>;
      }
      const model = new BertForSequenceClassification(sized(m), { seed });
      if (role === 'teacher') teacherModel = model;
      if (m.initFromTeacher && teacherModel) initStudentFromTeacher(teacherModel, model);
      return model as DistillModel<EncodedBatch>;
    },
    adaptor: bertAdaptor as Adaptor<EncodedBatch, never>,
    predict: (m, b) => tf.tidy(() => tf.argMax((m as BertForSequenceClassification).forward(b, { training: false, outputHiddenStates: false, outputAttentions: false }).logits, -1).dataSync() as Int32Array),
    labelsOf: (b) => b.labels!,
  };
}
