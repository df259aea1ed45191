/**
 * Config schemas (zod). Field names are camelCase; TextBrewer's snake_case spellings are accepted in
 * JSON and converted before validation (see normalize.ts). Every field carries a description that is
 * emitted into the JSON Schema for editor autocompletion.
 */
import { z } from 'zod';
import { distillationRules, trainingRules } from './rules.js';

const int = () => z.number().int();
const posInt = () => z.number().int().min(1);

/** `"flsw"`, `["flsw", 1, 2]` (TextBrewer positional), or `["flsw", { beta: 1, gamma: 2 }]`. */
export const SchedulerSpecSchema = z
  .union([
    z.string(),
    z.tuple([z.string()], z.number()),
    z.tuple([z.string(), z.record(z.string(), z.unknown())]),
    z.object({ name: z.string(), options: z.record(z.string(), z.unknown()).optional() }).strict(),
  ])
  .describe('A scheduler: "none", a plugin name, [name, ...positional numbers], [name, {options}] or {name, options}.');

/** `["linear", dimS, dimT]` or `["linear", dimS, dimT, { lr }]`. */
export const ProjectionSpecSchema = z
  .union([
    z.tuple([z.string(), posInt(), posInt()]),
    z.tuple([z.string(), posInt(), posInt(), z.object({ lr: z.number().positive().optional() }).catchall(z.unknown())]),
  ])
  .describe(
    'Projection [kind, studentDim, teacherDim, {lr?}] applied to the student feature (kinds: linear, relu, tanh, or a plugin).',
  );

const LayerSchema = z.union([int().min(0), z.tuple([int().min(0), int().min(0)])]);

/** One intermediate-layer match. */
export const IntermediateMatchSchema = z
  .object({
    layerT: LayerSchema.describe('Teacher layer index (hidden: 0 = embeddings), or a pair for fsp/nst.'),
    layerS: LayerSchema.describe('Student layer index, or a pair for fsp/nst.'),
    feature: z.string().min(1).describe('Adaptor output to match: "hidden", "attention", or another adaptor key.'),
    loss: z
      .string()
      .min(1)
      .describe('Match-loss plugin name (hidden_mse, attention_mse, attention_ce, cos, pkd, fsp, nst, …).'),
    weight: z.number().default(1).describe('Weight of this term in the total loss.'),
    proj: ProjectionSpecSchema.optional(),
    options: z.record(z.string(), z.unknown()).optional().describe('Options passed to the loss plugin.'),
  })
  .strict();

/** `distillation.teacherCache`: true = in memory for this run; `{ dir }` = a folder shared by runs. */
export const TeacherCacheSchema = z.union([
  z.boolean(),
  z
    .object({
      dir: z
        .string()
        .min(1)
        .optional()
        .describe('Cache folder (sharded entry files + manifest.json); omitted: in memory.'),
      dtype: z.enum(['float16', 'float32']).default('float16').describe('Precision of stored teacher outputs.'),
    })
    .strict(),
]);
/** One stage of progressive distillation (`distillation.stages`, MobileBERT-style). */
export const StageSchema = z
  .object({
    name: z.string().optional().describe('Label of the stage (logs, stages.json).'),
    numSteps: posInt().optional().describe('Optimizer steps of this stage (or numEpochs).'),
    numEpochs: posInt().optional().describe('Epochs of this stage (or numSteps).'),
    intermediateMatches: z
      .array(IntermediateMatchSchema)
      .optional()
      .describe("The stage's matches (replace distillation.intermediateMatches)."),
    kdLossWeight: z.number().min(0).optional().describe("The stage's KD weight."),
    hardLabelWeight: z.number().min(0).optional().describe("The stage's hard-label weight."),
    freeze: z
      .array(z.string().min(1))
      .optional()
      .describe('Student parameters not trained in this stage, by name segment: "embeddings", "layer.0", …'),
    freezeBelow: int().min(0).optional().describe('Freeze the embeddings and layers 0..k-1.'),
    lr: z.number().positive().optional().describe("The stage's learning rate (default: training.optimizer.lr)."),
    lrScheduler: z
      .object({
        type: z.enum(['constant', 'linear', 'constant_with_warmup']).optional(),
        warmupSteps: int().min(0).optional(),
        warmupProportion: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional()
      .describe("The stage's LR schedule; warm-up restarts at each stage."),
  })
  .strict();

/** TextBrewer's DistillationConfig, in camelCase. */
export const DistillationConfigSchema = z
  .object({
    temperature: z.number().positive().default(4).describe('Base temperature for KD on logits.'),
    temperatureScheduler: SchedulerSpecSchema.default('none'),
    hardLabelWeight: z.number().min(0).default(0).describe('Weight of the adaptor "losses" (hard labels).'),
    hardLabelWeightScheduler: z
      .string()
      .default('none')
      .describe('Weight scheduler plugin that replaces hardLabelWeight (linear_decay, linear_growth).'),
    kdLossType: z.string().default('ce').describe('KD loss plugin on logits: ce, mse, kl, bce, …'),
    kdLossWeight: z.number().min(0).default(1).describe('Weight of the KD loss.'),
    kdLossWeightScheduler: z.string().default('none').describe('Weight scheduler plugin that replaces kdLossWeight.'),
    probabilityShift: z.boolean().default(false).describe('Swap the teacher arg-max logit with the gold label logit.'),
    intermediateMatches: z
      .array(IntermediateMatchSchema)
      .default([])
      .describe('Intermediate feature matches (GeneralDistiller).'),
    isCachingLogits: z.boolean().default(false).describe('Cache teacher logits per batch index after the first epoch.'),
    taskSamplingTemperature: z
      .number()
      .min(0)
      .default(1)
      .describe('MultiTaskDistiller: tasks are drawn with p_k ∝ n_k^τ (1: by size, 0: uniform).'),
    teacherCache: TeacherCacheSchema.optional().describe(
      'Per-example teacher-output cache: true (memory) or { dir, dtype } (a folder reused across runs).',
    ),
    stages: z
      .array(StageSchema)
      .optional()
      .describe(
        'Progressive distillation: stages run in order on the same student, each with its own matches, weights, LR schedule and frozen layers (see trainStages).',
      ),
  })
  .strict()
  .superRefine(distillationRules);

export const OptimizerSchema = z
  .object({
    type: z
      .enum(['adamw', 'adam', 'sgd'])
      .default('adamw')
      .describe('adamw (decoupled weight decay, PyTorch semantics), adam (L2 in the gradient), sgd.'),
    lr: z.number().positive().default(5e-5),
    betas: z.tuple([z.number(), z.number()]).default([0.9, 0.999]),
    eps: z.number().positive().default(1e-8),
    weightDecay: z.number().min(0).default(0),
    noDecay: z
      .array(z.string())
      .default([])
      .describe('Parameter-name substrings exempt from weight decay (e.g. "bias", "LayerNorm").'),
  })
  .strict();

export const LrSchedulerSchema = z
  .object({
    type: z.enum(['constant', 'linear', 'constant_with_warmup']).default('constant'),
    warmupSteps: int().min(0).optional(),
    warmupProportion: z.number().min(0).max(1).optional(),
  })
  .strict();

/** TextBrewer's TrainingConfig plus the arguments of `train()`, in camelCase. */
export const TrainingConfigSchema = z
  .object({
    gradientAccumulationSteps: posInt().default(1),
    ckptFrequency: posInt().default(1).describe('Checkpoints per epoch (epoch mode).'),
    ckptEpochFrequency: posInt().default(1).describe('Checkpoint every N epochs (and always in the last).'),
    ckptSteps: posInt().nullable().default(null).describe('Steps mode: checkpoint every N optimizer steps.'),
    logDir: z.string().nullable().default(null).describe('Where metrics.jsonl goes (defaults to outputDir).'),
    outputDir: z.string().default('./saved_models'),
    seed: int().default(42),
    backend: z
      .string()
      .default('auto')
      .describe('tfjs backend: auto, tensorflow, native, wasm, cpu (env DISTILLERY_BACKEND overrides auto).'),
    device: z.string().nullable().default(null).describe('TextBrewer compatibility; the backend decides the device.'),
    fp16: z.literal(false).default(false).describe('Mixed precision is not available on tfjs; must be false.'),
    fp16OptLevel: z.string().default('O1'),
    dataParallel: z.literal(false).default(false),
    localRank: int().default(-1),
    numEpochs: posInt().optional().describe('Epoch mode: number of epochs.'),
    numSteps: posInt().optional().describe('Steps mode: number of optimizer steps (data cycled).'),
    maxGradNorm: z
      .number()
      .default(-1)
      .describe('Clip the global gradient norm (student + projections); <= 0 disables.'),
    optimizer: OptimizerSchema.default(OptimizerSchema.parse({})),
    lrScheduler: LrSchedulerSchema.default(LrSchedulerSchema.parse({})),
    compat: z
      .enum(['distillery', 'textbrewer'])
      .default('distillery')
      .describe(
        '"textbrewer" drops the leftover accumulated gradients at the end of an epoch, as TextBrewer does; "distillery" applies them.',
      ),
    logEvery: posInt().default(1).describe('Write a metrics line every N optimizer steps.'),
    onNonFinite: z
      .enum(['stop', 'skip'])
      .default('stop')
      .describe(
        'A non-finite loss or gradient (or a gradient norm above gradNormCeiling) before an optimizer step: "stop" the run, or "skip" the batch (no update; warned and counted).',
      ),
    gradNormCeiling: z
      .number()
      .positive()
      .nullable()
      .default(1e4)
      .describe(
        'Treat a global gradient norm (before clipping) above this as divergence (see onNonFinite); null disables.',
      ),
    saveTotalLimit: posInt()
      .nullable()
      .default(null)
      .describe('Keep only the newest N checkpoint folders (the best one is never deleted); null keeps all.'),
    evaluateEvery: posInt()
      .nullable()
      .default(null)
      .describe('Evaluate every N optimizer steps (and at the last); null: at each checkpoint.'),
    metricForBest: z
      .string()
      .min(1)
      .default('accuracy')
      .describe('Evaluation metric that selects the best checkpoint.'),
    greaterIsBetter: z
      .boolean()
      .optional()
      .describe('Direction of metricForBest (default: true, false when its name contains "loss").'),
    earlyStopping: z
      .object({
        patience: posInt().describe('Stop after this many evaluations without improvement.'),
        minDelta: z
          .number()
          .min(0)
          .default(0)
          .describe('Smallest change of metricForBest that counts as an improvement.'),
      })
      .strict()
      .optional()
      .describe('Stop a run whose metricForBest stopped improving (needs an evaluation).'),
  })
  .strict()
  .superRefine(trainingRules);

/** The part of a config file the core understands; the CLI adds its task sections. */
export const CoreRunConfigShape = {
  $schema: z.string().optional(),
  plugins: z.array(z.string()).default([]).describe('Plugin packages to load by npm name.'),
  training: TrainingConfigSchema.default(TrainingConfigSchema.parse({})),
  distillation: DistillationConfigSchema.default(DistillationConfigSchema.parse({})),
};
export const CoreRunConfigSchema = z.object(CoreRunConfigShape).strict();

export type DistillationConfig = z.output<typeof DistillationConfigSchema>;
export type DistillationConfigInput = z.input<typeof DistillationConfigSchema>;
export type TrainingConfig = z.output<typeof TrainingConfigSchema>;
export type TrainingConfigInput = z.input<typeof TrainingConfigSchema>;
export type IntermediateMatch = z.output<typeof IntermediateMatchSchema>;
export type SchedulerSpec = z.output<typeof SchedulerSpecSchema>;
export type OptimizerConfig = z.output<typeof OptimizerSchema>;
export type LrSchedulerConfig = z.output<typeof LrSchedulerSchema>;
export type CoreRunConfig = z.output<typeof CoreRunConfigSchema>;

/** Normalise a scheduler spec to `{name, options, args}`. */
export function schedulerSpec(spec: SchedulerSpec): { name: string; options: Record<string, unknown>; args: number[] } {
  if (typeof spec === 'string') return { name: spec, options: {}, args: [] };
  if (Array.isArray(spec)) {
    const [name, ...rest] = spec as [string, ...unknown[]];
    if (rest.length === 1 && typeof rest[0] === 'object' && rest[0] !== null)
      return { name, options: { ...rest[0] }, args: [] };
    return { name, options: {}, args: rest as number[] };
  }
  const o = spec;
  return { name: o.name, options: { ...(o.options ?? {}) }, args: [] };
}
