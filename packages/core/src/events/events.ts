/**
 * Lifecycle events. Two dispatch kinds, named explicitly:
 * - **telemetry events** (eventemitter3, fire-and-forget): listeners cannot delay training;
 * - **sequential hooks** (awaited, in registration order): callback plugins and user callbacks
 *   whose work must finish before the next step (evaluation, writing files).
 */
import { EventEmitter } from 'eventemitter3';
import type { StepEndInfo } from '../plugin/types.js';

/** Payloads of the telemetry events. */
export interface DistillerEventMap {
  trainBegin: [info: { totalSteps: number; stepsPerEpoch?: number; mode: 'epochs' | 'steps'; backend: string }];
  epochBegin: [info: { epoch: number }];
  /** After every forward/backward batch (TextBrewer logs per batch). */
  batchEnd: [info: BatchEndInfo];
  /** After every optimizer step, with the loss breakdown (mean over the accumulated batches). */
  stepEnd: [info: StepEndInfo];
  checkpoint: [info: { globalStep: number; path: string }];
  evaluate: [info: { globalStep: number; metrics: Record<string, number> }];
  trainEnd: [info: { globalStep: number; durationMs: number }];
  error: [error: Error];
}

/** Per-batch numbers. `counter` counts forward batches from 0 across the run. */
export interface BatchEndInfo {
  counter: number;
  epoch: number;
  globalStep: number;
  /** Loss weights in effect for this batch (after weight schedulers). */
  weights: { kdLossWeight: number; hardLabelWeight: number };
  loss: number;
  losses: Readonly<Record<string, number>>;
}

/** Typed event emitter of a distiller. */
export class DistillerEvents extends EventEmitter<DistillerEventMap> {}
