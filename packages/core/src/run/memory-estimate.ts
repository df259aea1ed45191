/**
 * How much memory one distillation step needs, estimated before the first step, so that a configuration
 * that cannot fit fails at once with the knobs that make it fit — not after the teacher's evaluation
 * with "RuntimeError: Aborted()" from a full wasm heap.
 *
 * The model: weights (teacher frozen; the student's with a gradient and, for Adam/AdamW, two moments),
 * the optimizer's transient copies of its largest parameter, and the activations a training step keeps
 * per token. The activation coefficients are calibrated on `packages/bench/configs/bench-bert-base.json`
 * (BERT-base teacher → 6-layer × 768 student, seq 64, native backend): see the figures in its test.
 * @packageDocumentation
 */
import { totalmem } from 'node:os';
import { DistilleryError } from '../util/errors.js';

/** The shape of one transformer encoder (the fields every BERT-family config has). */
export interface EncoderShape {
  numHiddenLayers: number;
  hiddenSize: number;
  numAttentionHeads: number;
  intermediateSize: number;
}

/** One model of the step. */
export interface MemoryModel {
  /** Number of parameters (all of them, trainable or not). */
  parameters: number;
  /** Size of the largest parameter tensor (elements): the optimizer's and the gradients' transient copies. */
  largestParameter?: number;
  /** Encoder shape, when known: activations are estimated from it (otherwise only weights count). */
  encoder?: EncoderShape;
  /** Weights stay outside the tensor backend (an onnxruntime teacher): only its outputs count. @default false */
  external?: boolean;
}

/** What {@link estimateStepMemory} needs. */
export interface MemoryEstimateInput {
  batchSize: number;
  /** Tokens per example (the task's `maxLength`). */
  seqLen: number;
  /** The trained model. */
  student: MemoryModel;
  /** The teacher, absent when training on labels only (or when its outputs come from a cache). */
  teacher?: MemoryModel;
  /** Optimizer state per trainable parameter: 2 for Adam/AdamW, 0 for SGD. @default 2 */
  optimizerMoments?: number;
}

/** One line of the estimate. */
export interface MemoryPart {
  what: string;
  bytes: number;
}

/** The estimate: its parts and their sum (bytes of tensor memory). */
export interface MemoryEstimate {
  parts: MemoryPart[];
  totalBytes: number;
}

const F32 = 4;
/**
 * Floats kept per token and per student layer during the backward pass: α·hidden + β·intermediate +
 * γ·heads·seqLen (attention scores and probabilities). Calibrated, see the module comment.
 */
const ALPHA = 10;
const BETA = 2;
const GAMMA = 2;

/** Activation bytes of a trained encoder for `tokens` tokens. */
function trainingActivations(e: EncoderShape, tokens: number, seqLen: number): number {
  return (
    tokens *
    e.numHiddenLayers *
    F32 *
    (ALPHA * e.hiddenSize + BETA * e.intermediateSize + GAMMA * e.numAttentionHeads * seqLen)
  );
}

/**
 * A frozen teacher's outputs kept through the step: only what the loss reads survives its forward pass
 * (`LiveTeacher`'s `keep`), about two matched layers' hidden states and attention maps.
 */
function teacherOutputs(e: EncoderShape, tokens: number, seqLen: number): number {
  return tokens * F32 * 2 * (e.hiddenSize + e.numAttentionHeads * seqLen);
}

/** Estimate the tensor memory of one training step (bytes). */
export function estimateStepMemory(x: MemoryEstimateInput): MemoryEstimate {
  const tokens = x.batchSize * x.seqLen;
  const moments = x.optimizerMoments ?? 2;
  const parts: MemoryPart[] = [];
  const s = x.student;
  parts.push({
    what: `student weights, gradients${moments ? ' and optimizer moments' : ''} (${fmtCount(s.parameters)} parameters)`,
    bytes: s.parameters * F32 * (2 + moments),
  });
  // The update of the largest tensor (new parameter and moments before the old are freed) and its dense gradient.
  if (s.largestParameter)
    parts.push({
      what: 'optimizer update and gradient transients (largest parameter)',
      bytes: s.largestParameter * F32 * (2 + moments),
    });
  if (s.encoder)
    parts.push({
      what: `student activations (batch ${x.batchSize} × ${x.seqLen} tokens, ${s.encoder.numHiddenLayers} layers)`,
      bytes: trainingActivations(s.encoder, tokens, x.seqLen),
    });
  const t = x.teacher;
  if (t) {
    if (!t.external)
      parts.push({ what: `teacher weights (${fmtCount(t.parameters)} parameters, frozen)`, bytes: t.parameters * F32 });
    if (t.encoder)
      parts.push({
        what: `teacher outputs the matches read (batch ${x.batchSize} × ${x.seqLen})`,
        bytes: teacherOutputs(t.encoder, tokens, x.seqLen),
      });
  }
  return { parts, totalBytes: parts.reduce((a, p) => a + p.bytes, 0) };
}

/** Where a backend keeps its tensors and how much of that there is (bytes). */
export interface MemoryLimit {
  bytes: number;
  /** e.g. "the native backend's wasm32 heap (4 GiB)". */
  what: string;
}

/**
 * What tensors can use of a wasm32 heap: 4 GiB addressable, less 256 MiB for what else lives there (the
 * module's stack and data, allocator bookkeeping, kernel scratch). The ceiling of the `native` and `wasm`
 * backends, whatever the machine has.
 */
export const WASM32_HEAP_BYTES = 2 ** 32 - 2 ** 28;

/** The memory a backend can give tensors: the wasm32 heap for `native`/`wasm`, the machine's memory otherwise. */
export function memoryLimitOf(backend: string, machineBytes = totalmem()): MemoryLimit {
  const machine = { bytes: machineBytes, what: `this machine's ${fmtBytes(machineBytes)} of memory` };
  if (backend === 'native' || backend === 'wasm') {
    return WASM32_HEAP_BYTES < machineBytes
      ? {
          bytes: WASM32_HEAP_BYTES,
          what: `the ${backend} backend's wasm32 heap (${fmtBytes(WASM32_HEAP_BYTES)} usable for tensors)`,
        }
      : machine;
  }
  return machine;
}

/** The largest batch size whose estimate fits `limit` (0 when not even 1 does). */
export function largestFittingBatch(x: MemoryEstimateInput, limit: MemoryLimit): number {
  let lo = 0;
  let hi = x.batchSize;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (estimateStepMemory({ ...x, batchSize: mid }).totalBytes <= limit.bytes) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Throw `MEMORY_WONT_FIT` when the estimate exceeds the limit: the message lists the parts and the knobs
 * (batch size — with the largest that fits —, sequence length, gradient accumulation, the teacher cache, a
 * backend without the wasm ceiling). Returns the estimate otherwise (for the log).
 */
export function assertFitsMemory(x: MemoryEstimateInput, limit: MemoryLimit, where = 'task.batchSize'): MemoryEstimate {
  const e = estimateStepMemory(x);
  if (e.totalBytes <= limit.bytes) return e;
  const fits = largestFittingBatch(x, limit);
  const parts = e.parts.map((p) => `${p.what}: ${fmtBytes(p.bytes)}`).join('; ');
  const knobs = [
    fits > 0
      ? `task.batchSize ${fits} (the largest that fits; training.gradientAccumulationSteps ${Math.ceil(x.batchSize / fits)} keeps an effective batch of ${x.batchSize})`
      : 'task.batchSize cannot help: the weights and optimizer state alone do not fit — a smaller student or teacher',
    `task.maxLength (now ${x.seqLen}; activations grow with it)`,
    ...(x.teacher
      ? [
          'distillation.teacherCache (teacher outputs from a cache: the teacher leaves the step; see `distillery cache-teacher`)',
        ]
      : []),
    ...(limit.what.includes('wasm32')
      ? ['a backend without the 4 GiB ceiling (DISTILLERY_BACKEND=tensorflow with @tensorflow/tfjs-node installed)']
      : []),
  ];
  throw new DistilleryError(
    'MEMORY_WONT_FIT',
    `this run needs about ${fmtBytes(e.totalBytes)} of tensor memory per step, more than ${limit.what}: ${parts}`,
    { where, hint: `lower one of: ${knobs.join('; ')}` },
  );
}

/** `1.23 GB` (decimal, as `ls -h --si` and the bench's peak RSS in MB). */
export function fmtBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(0)} MB`;
}

function fmtCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n.toLocaleString('en-US');
}
