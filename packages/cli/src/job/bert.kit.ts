/**
 * Kit for BERT classifiers: tokenizes with the teacher's tokenizer (or builds a WordPiece vocab
 * for from-scratch models), batches with dynamic padding and length bucketing, and builds teacher
 * and student models from Hugging Face folders or smaller configs.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, type Adaptor, type AdaptorOutput } from '@distillery/core';
import {
  BatchIterator,
  type EncodedExample,
  type Example,
  WordPieceTokenizer,
  buildWordPieceVocab,
  wordPieceTokenizerFiles,
  encodeExamples,
  loadTokenizer,
  makeBatches,
  type EncodedBatch,
  type TextTokenizer,
} from '@distillery/data';
import {
  bertAdaptor,
  type BertOutput,
  bertConfig,
  readHfConfig,
  type BertConfig,
  type EncoderModel,
} from '@distillery/models';
import type { Kit } from './kits.js';
import { EncoderBuilder } from './encoders.js';
import type { TaskData } from './data.js';
import type { JobConfig } from './schema.js';
import { buildOnnxTeacher, isOnnxTeacher, onnxPredict, onnxTeacherFiles } from './onnx.kit.js';
import { maskUnlabelled } from './unlabelled.js';

/** The encoded examples behind a BERT kit's batches (paired kits re-batch them, see paired.kit.ts). */
export interface BertKitItems {
  train: EncodedExample[];
  /** Train + unlabelled rows (when the task has unlabelled texts). */
  mixed?: EncodedExample[];
  test: EncodedExample[];
  encode(xs: Example[]): EncodedExample[];
}

/** Options of {@link bertKit}. */
export interface BertKitOptions {
  /**
   * Tokenize with the student's own tokenizer (`student.tokenizer`: a folder, or "build" for a
   * WordPiece vocab from the training texts) instead of the teacher's; student configs then take
   * their vocabulary size from it.
   */
  studentTokenizer?: string;
}

// eslint-disable-next-line @typescript-eslint/require-await -- async so that config errors thrown while building the kit reach callers as rejections
export async function bertKit(
  data: TaskData,
  cfg: JobConfig,
  kitOpts: BertKitOptions = {},
): Promise<Kit<EncodedBatch> & { items: BertKitItems }> {
  const t = cfg.teacher.model;
  const own = kitOpts.studentTokenizer;
  const onnx = t.type === 'onnx' && !own ? onnxTeacherFiles(t) : undefined;
  // An ONNX teacher's folder plays the part of a pretrained teacher's: tokenizer and (if present) config.json.
  const pretrainedDir = own
    ? undefined
    : t.type === 'bert' || t.type === 'distilbert'
      ? t.pretrained
      : onnx?.hasConfig
        ? onnx.tokenizerDir
        : undefined;
  const tokenizerDir = own
    ? own === 'build'
      ? undefined
      : own
    : t.type === 'bert' || t.type === 'distilbert'
      ? t.pretrained
      : onnx?.tokenizerDir;
  const maxLength = cfg.task.maxLength;
  // A missing folder is a missing model, not a missing tokenizer (the tokenizer is read first).
  if (pretrainedDir && !existsSync(pretrainedDir)) {
    throw new DistilleryError('MODEL_NOT_FOUND', `model folder ${pretrainedDir} does not exist`, {
      where: 'teacher.model.pretrained',
      hint: 'point "pretrained" at a Hugging Face folder (config.json, model.safetensors, tokenizer)',
    });
  }
  if (data.teacherSize < data.labels.size && cfg.distillation.probabilityShift) {
    // The shift swaps the teacher's logit at the gold id, which the teacher does not have for added labels.
    throw new DistilleryError(
      'CONFIG_INVALID',
      'distillation.probabilityShift cannot be used with task.data.extendLabels (the teacher has no logit for the added labels)',
      { where: 'distillation.probabilityShift', hint: 'set probabilityShift: false' },
    );
  }
  const tokenizer: TextTokenizer = tokenizerDir
    ? loadTokenizer(tokenizerDir, { maxLength })
    : new WordPieceTokenizer(
        buildWordPieceVocab(
          data.train.map((e) => e.text),
          { minFreq: 2, maxSize: cfg.task.vocabSize },
        ),
        { maxLength },
      );
  const train = encodeExamples(data.train, tokenizer, data.labels, { maxLength });
  const test = encodeExamples(data.test, tokenizer, data.labels, { maxLength });
  // Unlabelled rows (label -1 in their batches) join the student's data only; the teacher trains on labelled rows.
  const mixed = data.unlabelled?.length
    ? [...train, ...encodeExamples(data.unlabelled, tokenizer, undefined, { maxLength })]
    : undefined;
  const batchSize = cfg.task.batchSize;
  // The student inherits the job's label space: the teacher's id2label (plus any extended labels).
  const builder = new EncoderBuilder('sequence', () => baseConfig());
  const baseConfig = (): BertConfig =>
    pretrainedDir
      ? { ...readHfConfig(pretrainedDir), id2label: [...data.labels.names], numLabels: data.labels.size }
      : bertConfig({
          vocabSize: tokenizer.vocabSize,
          maxPositionEmbeddings: maxLength,
          numLabels: data.labels.size,
          id2label: [...data.labels.names],
        });
  const encode = (xs: Example[]) => encodeExamples(xs, tokenizer, data.labels, { maxLength });
  return {
    items: { train, ...(mixed ? { mixed } : {}), test, encode },
    trainSource: (seed) => new BatchIterator(train, { batchSize, shuffle: true, seed, bucketPools: 8 }),
    ...(mixed
      ? {
          distillSource: (seed: number) => new BatchIterator(mixed, { batchSize, shuffle: true, seed, bucketPools: 8 }),
        }
      : {}),
    testBatches: () => makeBatches(test, { batchSize: 128 }),
    evalBatches: (xs) => makeBatches(encodeExamples(xs, tokenizer, data.labels, { maxLength }), { batchSize: 128 }),
    tokenizerFiles: () => (tokenizer instanceof WordPieceTokenizer ? wordPieceTokenizerFiles(tokenizer) : {}),
    build: async (m, seed, role) => {
      if (m.type === 'onnx') {
        if (role !== 'teacher')
          throw new Error('an ONNX model can only be the teacher (it is frozen); give the student a "bert" model');
        return buildOnnxTeacher(m, cfg);
      }
      if (m.type !== 'mlp' && m.initFromTeacher && role === 'student' && !builder.teacher) {
        throw new Error(
          "student.model.initFromTeacher needs a tfjs teacher (an ONNX teacher's weights are not readable here)",
        );
      }
      if (m.type !== 'mlp' && m.initFromTeacher && role === 'student' && own) {
        throw new DistilleryError(
          'CONFIG_INVALID',
          "student.model.initFromTeacher copies the teacher's embeddings, which do not fit a student with its own tokenizer",
          { where: 'student.model.initFromTeacher', hint: 'remove initFromTeacher, or drop student.tokenizer' },
        );
      }
      const model = await builder.build(m, seed, role);
      if (role === 'student' && m.type !== 'mlp' && m.pretrained)
        checkStudentLabels((model as unknown as EncoderModel).config.id2label, [...data.labels.names], m.pretrained);
      return model;
    },
    adaptor: bertAdaptor,
    studentAdaptor: withUnlabelled(
      data.teacherSize < data.labels.size ? teacherSliceAdaptor(data.teacherSize) : undefined,
      !!mixed,
    ),
    predict: (m, b) =>
      isOnnxTeacher(m)
        ? onnxPredict(m, b)
        : tf.tidy(
            () =>
              tf
                .argMax(
                  (m as EncoderModel).forward(b, {
                    training: false,
                    outputHiddenStates: false,
                    outputAttentions: false,
                  }).logits,
                  -1,
                )
                .dataSync() as Int32Array,
          ),
    labelsOf: (b) => b.labels!,
  };
}

/** The student's adaptor, with the hard-label loss masked on unlabelled rows when the job has some. */
function withUnlabelled(
  a: Adaptor<EncodedBatch, never> | undefined,
  mixed: boolean,
): Adaptor<EncodedBatch, never> | undefined {
  return mixed ? maskUnlabelled(a ?? bertAdaptor) : a;
}

/** A pretrained student must use the job's label ids, or its logits would be read in the wrong order. */
function checkStudentLabels(student: readonly string[], space: readonly string[], dir: string): void {
  const at = student.findIndex((n, i) => n !== space[i]);
  if (student.length !== space.length || at >= 0) {
    throw new DistilleryError(
      'LABELS_MISMATCH',
      `the pretrained student's id2label differs from the job's label space${at >= 0 ? ` (id ${at}: "${student[at]}" vs "${space[at]}")` : ` (${student.length} vs ${space.length} labels)`}`,
      {
        where: `${dir}/config.json`,
        hint: 'use a student made from this teacher (same id2label), or build the student from a size config',
      },
    );
  }
}

/**
 * With `extendLabels`, the student has more logits than the teacher: the KD term sees only the
 * student's first `teacherSize` logits (a softmax over the teacher's labels), so the added labels
 * learn from the hard-label loss (computed by the model over all its logits) only.
 */
function teacherSliceAdaptor(teacherSize: number): Adaptor<EncodedBatch, BertOutput> {
  return (batch, out) => {
    const a: AdaptorOutput = bertAdaptor(batch, out);
    a.logits = tf.slice(out.logits, [0, 0], [-1, teacherSize]);
    return a;
  };
}
