/**
 * Conformance handlers for the distiller cases (owned by the core): total-loss assembly of
 * BasicDistiller / GeneralDistiller and the bookkeeping trace of BasicDistiller's training loop,
 * which is checked by running the real distiller (tiny models, `compat: "textbrewer"`).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BasicDistiller,
  averageTeacherLogits,
  taskSamplingWeights,
  DistillationConfigSchema,
  MlpClassifier,
  PluginRegistry,
  computeDistillationLoss,
  parseConfig,
  type AdaptorOutput,
  type FeatureBatch,
  type Projection,
} from '@distillery/core';
import type { HandlerTable } from './types.js';

type Json = Record<string, unknown>;

/** Arguments arrive decoded (tensors); plain numbers become scalars. */
function toTensor(v: unknown): tf.Tensor {
  return typeof v === 'number' ? tf.scalar(v) : (v as tf.Tensor);
}

/** A TextBrewer `results_S/T` dict → an adaptor output (tensor or list per key, camelCase keys). */
function toAdaptorOutput(r: Json): AdaptorOutput {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    const key = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[key] = Array.isArray(v) ? v.map(toTensor) : toTensor(v);
  }
  return out as AdaptorOutput;
}

/** A projection with the given weights (W [teacher, student], b), through the registered plugin. */
function fixedProjection(registry: PluginRegistry, kind: string, dimS: number, dimT: number, i: number, params: { weight: tf.Tensor; bias: tf.Tensor }): Projection {
  const plugin = registry.get('projection', kind);
  const p = plugin.create({ dimS, dimT, name: `conformance.proj.${i}`, seed: i }, registry.context(plugin));
  for (const v of p.variables) {
    v.assign(v.shape.length === 2 ? params.weight : params.bias);
  }
  return p;
}

function computeLoss(args: Json, registry: PluginRegistry): { total_loss: number; losses_dict: Record<string, number> } {
  const config = parseConfig(DistillationConfigSchema, args.config);
  const projParams = (args.proj_params ?? {}) as Record<string, { weight: tf.Tensor; bias: tf.Tensor }>;
  const projections = config.intermediateMatches.map((m, i) =>
    m.proj ? fixedProjection(registry, m.proj[0], m.proj[1], m.proj[2], i, projParams[String(i)]!) : undefined,
  );
  try {
    return tf.tidy(() => {
      const r = computeDistillationLoss(toAdaptorOutput(args.results_S as Json), toAdaptorOutput(args.results_T as Json), {
        config,
        registry,
        projections,
        compat: 'textbrewer',
      });
      return {
        total_loss: r.total.dataSync()[0]!,
        losses_dict: Object.fromEntries(Object.entries(r.losses).map(([k, t]) => [k, t.dataSync()[0]!])),
      };
    });
  } finally {
    projections.forEach((p) => p?.dispose());
  }
}

/** Run the real BasicDistiller on tiny models with the trace's loop settings and record its bookkeeping. */
async function trainTrace(args: Json, registry: PluginRegistry): Promise<Json> {
  const n = args.n_batches as number;
  const batches: FeatureBatch[] = Array.from({ length: n }, (_, i) => ({
    features: Float32Array.from({ length: 8 }, (_, j) => Math.sin(i * 8 + j)),
    labels: Int32Array.from([i % 2, (i + 1) % 2]),
    batchSize: 2,
    dim: 4,
  }));
  const student = new MlpClassifier({ inputDim: 4, hidden: [], numLabels: 2, seed: 1 });
  const teacher = new MlpClassifier({ inputDim: 4, hidden: [], numLabels: 2, seed: 2 });
  const adaptor = (b: FeatureBatch, o: ReturnType<MlpClassifier['forward']>): AdaptorOutput => ({ logits: o.logits, losses: o.loss ? [o.loss] : [] });
  const outputDir = mkdtempSync(join(tmpdir(), 'distillery-trace-'));
  const d = new BasicDistiller({
    student,
    teacher,
    adaptorS: adaptor,
    adaptorT: adaptor,
    registry: registry.child(),
    trainingConfig: {
      gradientAccumulationSteps: args.gradient_accumulation_steps as number,
      ckptFrequency: args.ckpt_frequency as number,
      ckptEpochFrequency: args.ckpt_epoch_frequency as number,
      ckptSteps: (args.ckpt_steps as number | null) ?? null,
      outputDir,
      compat: 'textbrewer',
    },
    distillationConfig: {
      kdLossWeight: args.kd_loss_weight as number,
      hardLabelWeight: args.hard_label_weight as number,
      kdLossWeightScheduler: args.kd_loss_weight_scheduler as string,
      hardLabelWeightScheduler: args.hard_label_weight_scheduler as string,
    },
  });
  const forward: Json[] = [];
  const optSteps: number[] = [];
  const saved: string[][] = [];
  const callbackSteps: number[] = [];
  const steps: number[] = [];
  const tags = new Set<string>(['scalar/total_loss']);
  let lastCounter = -1;
  d.events.on('batchEnd', (b) => {
    lastCounter = b.counter;
    forward.push({ batch_index: b.counter, kd_loss_weight: b.weights.kdLossWeight, hard_label_weight: b.weights.hardLabelWeight });
    steps.push(b.counter);
    for (const k of Object.keys(b.losses)) tags.add(`scalar/${k}`);
  });
  d.events.on('stepEnd', () => optSteps.push(lastCounter));
  const pkl = () => readdirSync(outputDir).filter((f) => /^checkpoint-\d+$/.test(f)).map((f) => `gs${f.slice(11)}.pkl`).sort((a, b) => parseInt(a.slice(2)) - parseInt(b.slice(2)));
  try {
    await d.train({
      dataloader: batches,
      ...(args.mode === 'steps' ? { numSteps: args.num_steps as number } : { numEpochs: args.num_epochs as number }),
      callback: (_m, step) => {
        callbackSteps.push(step);
        saved.push(pkl());
      },
    });
    return {
      forward_batches: forward,
      optimizer_steps_after_batch: optSteps,
      lr_scheduler_steps_after_batch: optSteps,
      checkpoints_saved: saved,
      callback_steps: callbackSteps,
      checkpoint_files_final: pkl(),
      tensorboard_tags: [...tags].sort(),
      tensorboard_steps_total_loss: steps,
    };
  } finally {
    student.dispose();
    teacher.dispose();
    rmSync(outputDir, { recursive: true, force: true });
  }
}

/** MultiTeacherDistiller's loss for one batch: mean of the teachers' masked logits, then the pipeline. */
function multiTeacherLoss(args: Json, registry: PluginRegistry): { total_loss: number; losses_dict: Record<string, number> } {
  const config = parseConfig(DistillationConfigSchema, args.config);
  const mask = args.mask as tf.Tensor;
  return tf.tidy(() => {
    const teacher = averageTeacherLogits((args.teacher_logits as tf.Tensor[]).map((logits) => ({ logits, logitsMask: mask })));
    const student: AdaptorOutput = { logits: args.student_logits as tf.Tensor, logitsMask: mask, losses: args.student_losses as tf.Tensor[] };
    const r = computeDistillationLoss(student, teacher, { config, registry });
    return {
      total_loss: r.total.dataSync()[0]!,
      losses_dict: Object.fromEntries(Object.entries(r.losses).map(([k, t]) => [k, t.dataSync()[0]!])),
    };
  });
}

/** Handlers for the distiller `fn`s. */
export const distillerHandlers: HandlerTable = {
  'MultiTeacherDistiller.train_on_batch': (args, ctx) => multiTeacherLoss(args as Json, ctx.registry),
  'MultiTaskDistiller.train': (args) => taskSamplingWeights(args.task_sizes as Record<string, number>, args.tau as number),
  'BasicDistiller.compute_loss': (args, ctx) => computeLoss(args as Json, ctx.registry),
  'GeneralDistiller.compute_loss': (args, ctx) => computeLoss(args as Json, ctx.registry),
  'BasicDistiller.train': (args, ctx) => trainTrace(args as Json, ctx.registry),
};
