/**
 * Framework overhead (GeneralDistiller vs a bare tfjs loop), soak (tensor count and RSS over many steps)
 * and a per-kernel profile of the train step.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { MemoryTeacherCacheStore } from '@distillery/core';
import {
  createBareTrainer,
  inferStep,
  median,
  memoryPeaks,
  msStats,
  round2,
  runBareTrain,
  runDistillerTrain,
  type BenchContext,
  type BenchMode,
  type InferMode,
  type MsStats,
} from './bench.js';

/** `--overhead` result. */
export interface OverheadResult {
  framework: 'distillery';
  mode: 'overhead';
  tfjs_version: string;
  backend: string;
  config: string;
  batch_size: number;
  seq_len: number;
  warmup: number;
  steps: number;
  rounds: number;
  /** Timed steps of all rounds, per variant. */
  distiller_ms: MsStats;
  bare_ms: MsStats;
  /** Median of each round (distiller, bare), in run order. */
  round_medians: { distiller: number; bare: number }[];
  /** (distiller median / bare median − 1) · 100 over all timed steps. */
  overhead_pct: number;
  /** The same from the median of the per-round ratios (robust to drift between rounds). */
  overhead_pct_paired: number;
  /** The same from the fastest step of each variant (least disturbed by other load on a shared machine). */
  overhead_pct_min: number;
  final_loss: { distiller: number; bare: number };
}

/**
 * Alternate `rounds` runs of the bare loop and of the distiller (bare first), each `warmup + steps`
 * steps on the same models and batch, and compare the medians of the timed steps.
 */
export async function runOverhead(
  ctx: BenchContext,
  warmup: number,
  steps: number,
  rounds: number,
): Promise<OverheadResult> {
  const dist: number[] = [];
  const bare: number[] = [];
  const perRound: { distiller: number; bare: number }[] = [];
  let lastD = NaN;
  let lastB = NaN;
  for (let r = 0; r < rounds; r++) {
    const b = runBareTrain(ctx, warmup + steps);
    const d = await runDistillerTrain(ctx, warmup + steps);
    const bt = b.times.slice(warmup);
    const dt = d.times.slice(warmup);
    bare.push(...bt);
    dist.push(...dt);
    perRound.push({ distiller: round2(median(dt)), bare: round2(median(bt)) });
    lastD = d.loss;
    lastB = b.loss;
  }
  const pct = (median(dist) / median(bare) - 1) * 100;
  const paired = (median(perRound.map((p) => p.distiller / p.bare)) - 1) * 100;
  return {
    framework: 'distillery',
    mode: 'overhead',
    tfjs_version: tf.version_core,
    backend: ctx.backend.name,
    config: ctx.cfg.name,
    batch_size: ctx.cfg.batch_size,
    seq_len: ctx.cfg.seq_len,
    warmup,
    steps,
    rounds,
    distiller_ms: msStats(dist),
    bare_ms: msStats(bare),
    round_medians: perRound,
    overhead_pct: round2(pct),
    overhead_pct_paired: round2(paired),
    overhead_pct_min: round2((Math.min(...dist) / Math.min(...bare) - 1) * 100),
    final_loss: { distiller: lastD, bare: lastB },
  };
}

/** One soak sample. */
export interface SoakSample {
  step: number;
  num_tensors: number;
  num_bytes: number;
  rss_mb: number;
  heap_used_mb: number;
}

/** `--soak N` result. */
export interface SoakResult {
  framework: 'distillery';
  mode: 'soak';
  tfjs_version: string;
  backend: string;
  config: string;
  batch_size: number;
  seq_len: number;
  steps: number;
  ms: MsStats;
  /** After step 1, after step N/2, after step N; plus every N/10 steps in `trace`. */
  start: SoakSample;
  middle: SoakSample;
  end: SoakSample;
  trace: SoakSample[];
  /** Engine tensors before the run (models, after one teacher forward filled its weight cache) and after it (the distiller's state disposed). */
  tensors_before: number;
  tensors_after: number;
  /** Same tensor count and bytes at start, middle and end. */
  tensors_flat: boolean;
  /** RSS change from the middle to the end sample (MB): the steady-state growth. */
  rss_growth_middle_to_end_mb: number;
  final_loss: number;
}

function sample(step: number): SoakSample {
  const m = tf.memory();
  const u = process.memoryUsage();
  return {
    step,
    num_tensors: m.numTensors,
    num_bytes: m.numBytes,
    rss_mb: round2(u.rss / 2 ** 20),
    heap_used_mb: round2(u.heapUsed / 2 ** 20),
  };
}

/** N distiller steps; tensor count and memory sampled after step 1, N/2 and N (and every N/10). */
export async function runSoak(ctx: BenchContext, steps: number): Promise<SoakResult> {
  // One teacher forward first: a frozen model caches transposed weights on its first call (owned by the
  // model, freed with it), which is not a per-step allocation.
  inferStep(ctx, 'teacher-infer');
  const before = tf.memory().numTensors;
  const every = Math.max(1, Math.floor(steps / 10));
  const mid = Math.max(1, Math.floor(steps / 2));
  const trace: SoakSample[] = [];
  let start: SoakSample | undefined;
  let middle: SoakSample | undefined;
  let end: SoakSample | undefined;
  const run = await runDistillerTrain(ctx, steps, (gs) => {
    if (gs === 1 || gs === mid || gs === steps || gs % every === 0) {
      const s = sample(gs);
      if (gs === 1) start = s;
      if (gs === mid) middle = s;
      if (gs === steps) end = s;
      if (!trace.length || trace[trace.length - 1]!.step !== gs) trace.push(s);
    }
  });
  const after = tf.memory().numTensors;
  const flat =
    start!.num_tensors === middle!.num_tensors &&
    middle!.num_tensors === end!.num_tensors &&
    start!.num_bytes === end!.num_bytes;
  return {
    framework: 'distillery',
    mode: 'soak',
    tfjs_version: tf.version_core,
    backend: ctx.backend.name,
    config: ctx.cfg.name,
    batch_size: ctx.cfg.batch_size,
    seq_len: ctx.cfg.seq_len,
    steps,
    ms: msStats(run.times.slice(1)),
    start: start!,
    middle: middle!,
    end: end!,
    trace,
    tensors_before: before,
    tensors_after: after,
    tensors_flat: flat,
    rss_growth_middle_to_end_mb: round2(end!.rss_mb - middle!.rss_mb),
    final_loss: run.loss,
  };
}

/** Kernel time of one profiled step, by kernel name. */
export interface KernelProfile {
  kernel: string;
  ms: number;
  calls: number;
  pct: number;
}

/** `--profile` result: where the time of one (warm) step goes. */
export interface ProfileResult {
  mode: BenchMode;
  driver: string;
  /** Wall time per profiled step (profiling adds a little per kernel). */
  step_wall_ms: number;
  /** Sum of the kernels' own times per step (calls are per step too). */
  kernel_ms: number;
  /** Wall time outside kernels per step (`step_wall_ms − kernel_ms`: tfjs dispatch, autograd, JS, GC). */
  overhead_ms: number;
  /** Kernel calls per step. */
  kernel_calls: number;
  /**
   * Tensor high-water mark: the wasm memory size on wasm/native (see `memoryPeaks`). Not `tf.profile`'s
   * `peakBytes`, which counts the zero-copy Identity/Cast outputs of wasm/native a second time.
   */
  peak_tensor_bytes: number;
  kernels: KernelProfile[];
  /** customGrad ops (not kernels): their time includes kernels already counted in `kernels`. */
  scopes: { name: string; ms: number; calls: number }[];
  /** The slowest kernel calls grouped by kernel and input shapes (matmuls mainly). */
  top_shapes: { kernel: string; shapes: string; ms: number; calls: number }[];
}

/**
 * Profile warm steps with `tf.profile` (each kernel timed by the backend; on cpu/wasm/native that is its
 * wall time) and report kernel time per step. Inference: one warm step, then one profiled step. Train with
 * the bare driver: a warm step, then 2 profiled steps. Train with the distiller: a 1-step `train()` to warm
 * up, then a 2-step `train()` profiled (its first step also creates the AdamW moments; the final checkpoint
 * write runs no kernels).
 */
export async function runProfile(
  ctx: BenchContext,
  mode: BenchMode,
  driver: 'distiller' | 'bare' = 'bare',
): Promise<ProfileResult> {
  const prevCheck = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  const training = mode === 'train' || mode === 'train-cached';
  const cached = mode === 'train-cached';
  if (cached && driver === 'bare') throw new Error('train-cached is a distiller mode (no --driver bare)');
  const useDistiller = training && driver === 'distiller';
  const bare = training && !useDistiller ? createBareTrainer(ctx) : undefined;
  const nSteps = training ? 2 : 1;
  try {
    const step = () => (bare ? bare.step().loss : inferStep(ctx, mode as InferMode));
    // train-cached: the warm-up step fills the cache that the profiled steps read.
    const teacherCache = cached ? new MemoryTeacherCacheStore() : undefined;
    if (useDistiller) await runDistillerTrain(ctx, 1, undefined, { teacherCache });
    else step();
    const t0 = performance.now();
    const info = await tf.profile(async () => {
      if (useDistiller) await runDistillerTrain(ctx, nSteps, undefined, { teacherCache });
      else for (let i = 0; i < nSteps; i++) step();
      return [];
    });
    const wall = (performance.now() - t0) / nSteps;
    // Ops built with tf.customGrad (fused.matMul, softmaxCrossEntropy, the embedding lookup…) show up as
    // entries of their own whose time includes the kernels inside them: listed apart, not added to the total.
    const backendName = tf.getBackend();
    const isKernel = (name: string) => tf.getKernel(name, backendName) !== undefined;
    const scopes = new Map<string, { ms: number; calls: number }>();
    const byName = new Map<string, { ms: number; calls: number }>();
    const byShape = new Map<string, { kernel: string; shapes: string; ms: number; calls: number }>();
    for (const k of info.kernels) {
      const ms = (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0) / nSteps;
      if (!isKernel(k.name)) {
        const sc = scopes.get(k.name) ?? { ms: 0, calls: 0 };
        sc.ms += ms;
        sc.calls += 1 / nSteps;
        scopes.set(k.name, sc);
        continue;
      }
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += ms;
      e.calls += 1 / nSteps;
      byName.set(k.name, e);
      const shapes = k.inputShapes.map((s) => (s ? `[${s.join(',')}]` : '[?]')).join('×');
      const key = `${k.name} ${shapes}`;
      const s = byShape.get(key) ?? { kernel: k.name, shapes, ms: 0, calls: 0 };
      s.ms += ms;
      s.calls += 1 / nSteps;
      byShape.set(key, s);
    }
    const total = [...byName.values()].reduce((a, e) => a + e.ms, 0);
    const kernels = [...byName.entries()]
      .map(([kernel, e]) => ({ kernel, ms: round2(e.ms), calls: e.calls, pct: round2((100 * e.ms) / total) }))
      .sort((a, b) => b.ms - a.ms);
    const topShapes = [...byShape.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 25)
      .map((s) => ({ ...s, ms: round2(s.ms) }));
    const scopeList = [...scopes.entries()]
      .map(([name, e]) => ({ name, ms: round2(e.ms), calls: e.calls }))
      .sort((a, b) => b.ms - a.ms);
    const calls = [...byName.values()].reduce((a, e) => a + e.calls, 0);
    return {
      mode,
      driver: useDistiller ? 'GeneralDistiller' : bare ? 'bare-tfjs' : 'forward',
      step_wall_ms: round2(wall),
      kernel_ms: round2(total),
      overhead_ms: round2(wall - total),
      kernel_calls: Math.round(calls),
      peak_tensor_bytes: memoryPeaks(info.peakBytes).peak_tensor_bytes,
      kernels,
      top_shapes: topShapes,
      scopes: scopeList,
    };
  } finally {
    bare?.dispose();
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', prevCheck);
  }
}
