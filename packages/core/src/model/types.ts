/**
 * Contracts between the distillers and user models: the model interface and the adaptor.
 *
 * Writing an adaptor is the main thing users do for custom models: it maps (batch, model outputs)
 * to the named fields the distillers read.
 * @packageDocumentation
 */
import type * as tfc from '@tensorflow/tfjs-core';

/**
 * A model the distillers can run. Batches are plain data (typed arrays, numbers): the model turns
 * them into tensors inside `forward`, which the distiller runs inside `tf.tidy` / a gradient tape,
 * so nothing leaks.
 *
 * @typeParam B - batch type (e.g. `EncodedBatch` from `@distillery/data`)
 * @typeParam O - model output type (e.g. `BertOutput`)
 */
export interface DistillModel<B = unknown, O = unknown> {
  /** Forward pass. `training` turns dropout on. Must use tf ops only (it is differentiated). */
  forward(batch: B, opts: { training: boolean }): O;
  /**
   * Trainable parameters by stable name (Hugging Face names for BERT: `bert.encoder.layer.0…`).
   * The distiller trains these, clips their gradients, and saves them in checkpoints.
   */
  parameters(): Readonly<Record<string, tfc.Variable>>;
  /** Free the model's tensors. */
  dispose?(): void;
}

/** One tensor, or a list of them (TextBrewer accepts both in most adaptor fields). */
export type TensorOrList<T extends tfc.Tensor = tfc.Tensor> = T | readonly T[];

/**
 * What an adaptor returns: the fields TextBrewer's distillers read, in camelCase.
 * Every field is optional; which ones are needed depends on the distiller and config
 * (validated at the first step with errors that name the missing key or wrong rank).
 */
export interface AdaptorOutput {
  /** Logits: (B, C), or (B, L, C) for token tasks; a list for several heads. */
  logits?: TensorOrList;
  /** (B, L) 0/1 mask selecting which rows of 3-D logits take part (one per head, or one for all). */
  logitsMask?: TensorOrList;
  /** Labels: (B,) class ids or (B, L) with negative = ignore; used by probability shift. */
  labels?: TensorOrList;
  /** Supervised losses computed by the model (e.g. cross-entropy); summed after a mean each. */
  losses?: TensorOrList;
  /** Hidden states, HF numbering: `hidden[0]` = embedding output, `hidden[i]` = layer i. Each (B, L, D). */
  hidden?: readonly tfc.Tensor[];
  /** Attention maps, 0-based per layer: (B, H, L, L) probabilities or scores (or (B, L, L)). */
  attention?: readonly tfc.Tensor[];
  /** (B, L) 0/1 mask of real tokens, used by intermediate-match losses. */
  inputsMask?: tfc.Tensor;
  /** Any other named features an adaptor wants to expose to match losses (`feature: "<name>"`). */
  [feature: string]: TensorOrList | undefined;
}

/**
 * An adaptor: maps a batch and the model's outputs to {@link AdaptorOutput}.
 * Called inside the step's tidy; it must not dispose its inputs.
 */
export type Adaptor<B = unknown, O = unknown> = (batch: B, modelOutputs: O) => AdaptorOutput;
