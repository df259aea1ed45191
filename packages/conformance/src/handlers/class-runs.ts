/**
 * Class-level conformance: the distiller classes themselves (BasicDistiller, GeneralDistiller,
 * MultiTeacherDistiller) run one real training batch on the reference inputs, and the loss they
 * report for it (the `batchEnd` event, computed before the optimizer step) is compared with
 * TextBrewer's. This covers the wiring the loss helpers alone do not: teacher forward, adaptors,
 * first-step validation, the teachers' mask-and-average, projections created from the config.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BasicDistiller,
  GeneralDistiller,
  MultiTeacherDistiller,
  type AdaptorOutput,
  type DistillModel,
  type PluginRegistry,
  type TrainingConfigInput,
} from '@distillery/core';

type Json = Record<string, unknown>;

/** What a loss case expects: TextBrewer's `total_loss` and `losses_dict`. */
export interface BatchLoss {
  total_loss: number;
  losses_dict: Record<string, number>;
}

/**
 * A model whose forward returns fixed reference outputs. As a student, every float tensor passes
 * through `x + z` with a trainable scalar `z = 0`, so the values are unchanged and the loss has a
 * gradient path to a parameter (the training step needs one). Integer tensors (masks, labels) pass as is.
 */
export class FixedModel implements DistillModel<number, AdaptorOutput> {
  private readonly zero: tf.Variable;

  constructor(
    private readonly out: AdaptorOutput,
    private readonly trainable: boolean,
  ) {
    this.zero = tf.variable(tf.scalar(0), trainable);
  }

  forward(): AdaptorOutput {
    const pass = (t: tf.Tensor): tf.Tensor => (this.trainable && t.dtype === 'float32' ? tf.add(t, this.zero) : t);
    const res: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.out)) {
      if (v === undefined) continue;
      res[k] = Array.isArray(v) ? (v as tf.Tensor[]).map(pass) : pass(v as tf.Tensor);
    }
    return res as AdaptorOutput;
  }

  parameters(): Record<string, tf.Variable> {
    return { zero: this.zero };
  }

  dispose(): void {
    this.zero.dispose();
  }
}

/** The adaptor of {@link FixedModel}: its outputs already are an adaptor output. */
export const identityAdaptor = (_b: number, o: AdaptorOutput): AdaptorOutput => o;

/** Training settings of a one-batch run: one optimizer step, TextBrewer loss semantics, a temporary folder. */
function oneStepConfig(outputDir: string): TrainingConfigInput {
  return { outputDir, compat: 'textbrewer' };
}

/**
 * Runs `make(trainingConfig)`'s distiller for one batch and returns the loss it reported for that
 * batch. The distiller is built by the caller so each class is constructed with its own options.
 */
export async function lossOfOneBatch(
  make: (trainingConfig: TrainingConfigInput) => BasicDistiller<number, AdaptorOutput, AdaptorOutput>,
  prepare?: (d: BasicDistiller<number, AdaptorOutput, AdaptorOutput>) => void,
): Promise<BatchLoss> {
  const outputDir = mkdtempSync(join(tmpdir(), 'distillery-class-'));
  const d = make(oneStepConfig(outputDir));
  let seen: BatchLoss | undefined;
  d.events.on('batchEnd', (b) => {
    seen ??= { total_loss: b.loss, losses_dict: { ...b.losses } };
  });
  try {
    prepare?.(d);
    await d.train({ dataloader: [0], numSteps: 1 });
  } finally {
    if (d instanceof GeneralDistiller) d.dispose();
    rmSync(outputDir, { recursive: true, force: true });
  }
  if (!seen) throw new Error('the distiller ran no batch');
  return seen;
}

/** Decoded number arguments become scalars; tensors stay. */
function toTensor(v: unknown): tf.Tensor {
  return typeof v === 'number' ? tf.scalar(v) : (v as tf.Tensor);
}

/** A TextBrewer `results_S/T` dict → an adaptor output (tensor or list per key, camelCase keys). */
export function toAdaptorOutput(r: Json): AdaptorOutput {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    const key = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[key] = Array.isArray(v) ? v.map(toTensor) : toTensor(v);
  }
  return out as AdaptorOutput;
}

/**
 * `BasicDistiller.compute_loss` / `GeneralDistiller.compute_loss`: the class of that name, with the
 * case's config; a GeneralDistiller's projections (created by the class from `proj`) get the
 * reference weights before the batch.
 */
export async function classComputeLoss(
  cls: 'BasicDistiller' | 'GeneralDistiller',
  args: Json,
  registry: PluginRegistry,
): Promise<BatchLoss> {
  const student = new FixedModel(toAdaptorOutput(args.results_S as Json), true);
  const teacher = new FixedModel(toAdaptorOutput(args.results_T as Json), false);
  const projParams = (args.proj_params ?? {}) as Record<string, { weight: tf.Tensor; bias: tf.Tensor }>;
  try {
    return await lossOfOneBatch(
      (trainingConfig) => {
        const o = {
          student,
          teacher,
          adaptorS: identityAdaptor,
          adaptorT: identityAdaptor,
          registry: registry.child(),
          trainingConfig,
          distillationConfig: args.config as Json,
        };
        return cls === 'GeneralDistiller' ? new GeneralDistiller(o) : new BasicDistiller(o);
      },
      (d) => {
        if (!(d instanceof GeneralDistiller)) return;
        d.projections.forEach((p, i) => {
          const w = projParams[String(i)];
          if (!p) return;
          if (!w) throw new Error(`match ${i} has a projection but the case gives no proj_params["${i}"]`);
          for (const v of p.variables) v.assign(v.shape.length === 2 ? w.weight : w.bias);
        });
      },
    );
  } finally {
    student.dispose();
    teacher.dispose();
  }
}

/** `MultiTeacherDistiller.train_on_batch`: the class with one fixed teacher per reference logits tensor. */
export async function classMultiTeacherLoss(args: Json, registry: PluginRegistry): Promise<BatchLoss> {
  const mask = args.mask as tf.Tensor;
  const teachers = (args.teacher_logits as tf.Tensor[]).map(
    (logits) => new FixedModel({ logits, logitsMask: mask }, false),
  );
  const student = new FixedModel(
    { logits: args.student_logits as tf.Tensor, logitsMask: mask, losses: args.student_losses as tf.Tensor[] },
    true,
  );
  try {
    return await lossOfOneBatch(
      (trainingConfig) =>
        new MultiTeacherDistiller({
          teachers,
          student,
          adaptorS: identityAdaptor,
          adaptorT: identityAdaptor,
          registry: registry.child(),
          trainingConfig,
          distillationConfig: args.config as Json,
        }),
    );
  } finally {
    [...teachers, student].forEach((m) => m.dispose());
  }
}
