/**
 * Conformance handlers for the distiller cases: the loss of one batch as the BasicDistiller,
 * GeneralDistiller and MultiTeacherDistiller classes compute it (see class-runs.ts), and the
 * bookkeeping trace of BasicDistiller's training loop, checked by running the real distiller
 * (tiny models, `compat: "textbrewer"`).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BasicDistiller,
  taskSamplingWeights,
  MlpClassifier,
  type PluginRegistry,
  type AdaptorOutput,
  type FeatureBatch,
} from '@distillery/core';
import { classComputeLoss, classMultiTeacherLoss } from './class-runs.js';
import type { HandlerTable } from './types.js';

type Json = Record<string, unknown>;

/** Base learning rate of the trace runs (SGD, so the applied rate is the scheduled one). */
const TRACE_LR = 0.1;

/**
 * Where the LR scheduler stepped, read from the learning rates the optimizer applied (`loggedLrs`,
 * one per optimizer step) under the linear schedule lr_k = TRACE_LR · (N − k)/N: the k-th step's
 * rate gives the scheduler's count before it, and every advance between steps k and k + 1 is
 * placed after step k's batch. The loop does not report the scheduler step after the last
 * optimizer step (no later rate shows it), so that one is placed after the last step's batch
 * only if every observed rate matched the once-per-step count. A rate off the schedule throws.
 */
function schedulerSteps(lrs: number[], optBatches: number[], totalSteps: number): number[] {
  const counts = lrs.map((lr, k) => {
    const c = totalSteps - (lr / TRACE_LR) * totalSteps;
    const r = Math.round(c);
    if (Math.abs(c - r) > 1e-6)
      throw new Error(
        `trace: optimizer step ${k} applied lr ${lr}, not on the linear schedule ${TRACE_LR}·(N − k)/N (N = ${totalSteps})`,
      );
    return r;
  });
  const out: number[] = [];
  if (counts[0] !== undefined && counts[0] !== 0)
    throw new Error(`trace: the first optimizer step applied the rate of scheduler step ${counts[0]}, expected 0`);
  for (let k = 0; k + 1 < counts.length; k++) {
    for (let n = counts[k]!; n < counts[k + 1]!; n++) out.push(optBatches[k]!);
  }
  if (counts.every((c, k) => c === k) && optBatches.length > 0) out.push(optBatches[optBatches.length - 1]!);
  return out;
}

type StepRecord = {
  type?: string;
  globalStep?: number;
  lr?: unknown;
  loss?: unknown;
  losses?: Record<string, unknown>;
};

/** The `step` records of the `metrics.jsonl` a run wrote (`logEvery: 1`: one per optimizer step). */
function stepRecords(metricsFile: string): StepRecord[] {
  return readFileSync(metricsFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as StepRecord)
    .filter((r) => r.type === 'step');
}

/**
 * The scalar tags the run logged, read back from the `metrics.jsonl` it wrote (TextBrewer's
 * tensorboard tags): `scalar/total_loss` for `loss`, `scalar/<name>` for each entry of `losses`.
 */
function loggedTags(records: readonly StepRecord[]): string[] {
  const tags = new Set<string>();
  for (const rec of records) {
    if (typeof rec.loss === 'number') tags.add('scalar/total_loss');
    for (const [k, v] of Object.entries(rec.losses ?? {})) if (typeof v === 'number') tags.add(`scalar/${k}`);
  }
  return [...tags].sort();
}

/**
 * The learning rate of each optimizer step as the run logged it (`lr` of the step records: the rate the
 * optimizer applied to the student's parameters, `Optimizer.appliedLr`), checked against the live
 * `stepEnd` events so the file and the events cannot disagree.
 */
function loggedLrs(records: readonly StepRecord[], live: readonly number[]): number[] {
  const lrs = records.map((r, k) => {
    if (typeof r.lr !== 'number') throw new Error(`trace: metrics.jsonl step record ${k} has no numeric lr`);
    return r.lr;
  });
  if (lrs.length !== live.length || lrs.some((lr, k) => lr !== live[k])) {
    throw new Error(
      `trace: metrics.jsonl lrs [${lrs.join(', ')}] differ from the stepEnd events' [${live.join(', ')}]`,
    );
  }
  return lrs;
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
  const adaptor = (b: FeatureBatch, o: ReturnType<MlpClassifier['forward']>): AdaptorOutput => ({
    logits: o.logits,
    losses: o.loss ? [o.loss] : [],
  });
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
      // A strictly decreasing schedule (HF linear, no warm-up: factor (N − k)/N at the k-th
      // optimizer step) makes every step's learning rate tell how many scheduler steps preceded it.
      optimizer: { type: 'sgd', lr: TRACE_LR },
      lrScheduler: { type: 'linear', warmupSteps: 0 },
      logEvery: 1,
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
  const lrs: number[] = [];
  let totalSteps = 0;
  let lastCounter = -1;
  d.events.on('trainBegin', (b) => (totalSteps = b.totalSteps));
  d.events.on('batchEnd', (b) => {
    lastCounter = b.counter;
    forward.push({
      batch_index: b.counter,
      kd_loss_weight: b.weights.kdLossWeight,
      hard_label_weight: b.weights.hardLabelWeight,
    });
    // TextBrewer writes total_loss per forward batch: a batch counts when it reported a loss.
    if (Number.isFinite(b.loss)) steps.push(b.counter);
  });
  d.events.on('stepEnd', (s) => {
    optSteps.push(lastCounter);
    lrs.push(s.lr);
  });
  const pkl = () =>
    readdirSync(outputDir)
      .filter((f) => /^checkpoint-\d+$/.test(f))
      .map((f) => `gs${f.slice(11)}.pkl`)
      .sort((a, b) => parseInt(a.slice(2)) - parseInt(b.slice(2)));
  try {
    await d.train({
      dataloader: batches,
      ...(args.mode === 'steps' ? { numSteps: args.num_steps as number } : { numEpochs: args.num_epochs as number }),
      callback: (_m, step) => {
        callbackSteps.push(step);
        saved.push(pkl());
      },
    });
    const records = stepRecords(join(outputDir, 'metrics.jsonl'));
    return {
      forward_batches: forward,
      optimizer_steps_after_batch: optSteps,
      lr_scheduler_steps_after_batch: schedulerSteps(loggedLrs(records, lrs), optSteps, totalSteps),
      checkpoints_saved: saved,
      callback_steps: callbackSteps,
      checkpoint_files_final: pkl(),
      tensorboard_tags: loggedTags(records),
      tensorboard_steps_total_loss: steps,
    };
  } finally {
    student.dispose();
    teacher.dispose();
    rmSync(outputDir, { recursive: true, force: true });
  }
}

/** Handlers for the distiller `fn`s. */
export const distillerHandlers: HandlerTable = {
  'MultiTeacherDistiller.train_on_batch': (args, ctx) => classMultiTeacherLoss(args, ctx.registry),
  'MultiTaskDistiller.train': (args) =>
    taskSamplingWeights(args.task_sizes as Record<string, number>, args.tau as number),
  'BasicDistiller.compute_loss': (args, ctx) => classComputeLoss('BasicDistiller', args, ctx.registry),
  'GeneralDistiller.compute_loss': (args, ctx) => classComputeLoss('GeneralDistiller', args, ctx.registry),
  'BasicDistiller.train': (args, ctx) => trainTrace(args, ctx.registry),
};
