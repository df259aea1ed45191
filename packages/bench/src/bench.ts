/**
 * The distillation-step benchmark: the step of `shared/bench/README.md` (BERT teacher → BERT student,
 * KD + hard label + projected hidden MSE + head-summed attention MSE, AdamW) built from Distillery's
 * parts — the models package's BERT, the registered loss and projection plugins, core's GeneralDistiller.
 * @packageDocumentation
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  GeneralDistiller,
  MemoryTeacherCacheStore,
  createRegistry,
  initBackend,
  registerAllGradients,
  type PluginRegistry,
} from '@distillery/core';
import { BertForSequenceClassification, bertAdaptor, bertConfig, type BertOutput } from '@distillery/models';
import { mulberry32, type EncodedBatch } from '@distillery/data';
import kdPlugins from '@distillery/plugin-loss-kd';
import hiddenMsePlugins from '@distillery/plugin-loss-hidden-mse';
import attentionPlugins from '@distillery/plugin-loss-attention';
import projectionPlugins from '@distillery/plugin-projections';
import type { BenchArch, BenchConfig } from './config.js';

/** What one timed step does. */
/**
 * `train`: the whole distillation step. `train-cached`: the same step with the teacher's outputs served by a
 * warm in-memory teacher cache (`useTeacherCache`: the first warm-up step fills it, every later step skips the
 * teacher). `teacher-infer` / `student-infer`: one forward pass.
 */
export type BenchMode = 'train' | 'train-cached' | 'teacher-infer' | 'student-infer';
export const BENCH_MODES: readonly BenchMode[] = ['train', 'train-cached', 'teacher-infer', 'student-infer'];

/** The forward-only modes. */
export type InferMode = Exclude<BenchMode, 'train' | 'train-cached'>;

/** The PyTorch script's mode to compare a mode with: a cached step is compared with PyTorch's full step. */
export function torchModeOf(mode: BenchMode): Exclude<BenchMode, 'train-cached'> {
  return mode === 'train-cached' ? 'train' : mode;
}

/** min / median / max of the timed steps (ms, 2 decimals as the PyTorch script). */
export interface MsStats {
  min: number;
  median: number;
  max: number;
}

/** The four loss terms of the step, by the PyTorch script's names. */
export interface FinalLosses {
  kd: number;
  hard_label: number;
  hidden_mse: number;
  attention_mse_sum: number;
}

/** The JSON line (same fields as `torch_distill_bench.py`, plus `backend_detail` and `driver`). */
export interface BenchResult {
  framework: 'distillery';
  tfjs_version: string;
  backend: string;
  backend_detail: string;
  threads: number;
  config: string;
  mode: BenchMode;
  /** What ran the train step: the GeneralDistiller, or the bare tfjs loop. */
  driver: 'GeneralDistiller' | 'bare-tfjs' | 'forward';
  batch_size: number;
  seq_len: number;
  warmup: number;
  steps: number;
  ms: MsStats;
  samples_per_s: number;
  final_loss: number | null;
  final_losses: FinalLosses | null;
  logits_checksum: number | null;
  /** The process's peak resident set size in MB (`process.resourceUsage().maxRSS`: whole run, models included). */
  peakRssMB: number;
  /**
   * High-water mark of tensor memory in bytes: on wasm/native the size of the wasm memory (it only grows, and
   * holds every tensor); elsewhere the largest `tf.memory().numBytes` seen at the end of a step.
   */
  peak_tensor_bytes: number;
}

/** The wasm memory of the active backend (wasm and native keep every tensor in it), or undefined elsewhere. */
function wasmHeapBytes(): number | undefined {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.byteLength;
}

/** Peak RSS (MB) and the tensor high-water mark so far (`sampled`: the largest numBytes seen by the caller). */
export function memoryPeaks(sampled = 0): { peakRssMB: number; peak_tensor_bytes: number } {
  return {
    peakRssMB: round2(process.resourceUsage().maxRSS / 1024),
    peak_tensor_bytes: wasmHeapBytes() ?? Math.max(sampled, tf.memory().numBytes),
  };
}

/** Python's `round(x, 2)` for display (half-even differences do not matter here). */
export const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Python's `statistics.median`. */
export function median(xs: readonly number[]): number {
  if (!xs.length) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function msStats(times: readonly number[]): MsStats {
  return { min: round2(Math.min(...times)), median: round2(median(times)), max: round2(Math.max(...times)) };
}

/** The backend actually active, its description and thread count. */
export interface BackendInfo {
  name: string;
  detail: string;
  threads: number;
}

/**
 * Activate a backend (`native` | `wasm` | `cpu`, or the fastest present when undefined; `DISTILLERY_BACKEND`
 * is honoured by core) and register the gradients. `threads` sets `DISTILLERY_BLAS_THREADS` (native) before
 * the addon loads.
 */
export async function setupBackend(backend?: string, threads?: number): Promise<BackendInfo> {
  if (threads !== undefined) process.env.DISTILLERY_BLAS_THREADS = String(threads);
  const lines: string[] = [];
  const name = await initBackend({
    backend,
    logger: {
      info: (m) => {
        lines.push(m);
        process.stderr.write(`[distillery] ${m}\n`);
      },
    },
  });
  await registerAllGradients();
  let detail = lines[0]?.replace(/^tfjs backend: /, '') ?? name;
  let n = 1;
  if (name === 'native') {
    const native = await import('@distillery/backend-native');
    detail = native.describeNative();
    n = Number(/(\d+) threads?/.exec(detail)?.[1] ?? native.blasThreads());
  }
  return { name, detail, threads: n };
}

function archConfig(cfg: BenchConfig, a: BenchArch, dropout: number) {
  return bertConfig({
    vocabSize: cfg.vocab_size,
    hiddenSize: a.hidden_size,
    numHiddenLayers: a.num_hidden_layers,
    numAttentionHeads: a.num_attention_heads,
    intermediateSize: a.intermediate_size,
    maxPositionEmbeddings: cfg.max_position_embeddings,
    typeVocabSize: cfg.type_vocab_size,
    layerNormEps: cfg.layer_norm_eps,
    initializerRange: cfg.initializer_range,
    hiddenDropoutProb: dropout,
    attentionProbsDropoutProb: dropout,
    classifierDropout: null,
    hiddenAct: 'gelu',
    numLabels: cfg.num_labels,
  });
}

/**
 * The fixed batch: ids uniform in [1, vocab-1], mask all ones, token types 0, labels uniform in
 * [0, numLabels-1] (seeded mulberry32; the values differ from PyTorch's, the timings do not depend on them).
 */
export function makeBatch(cfg: BenchConfig): EncodedBatch {
  const rnd = mulberry32(cfg.seed);
  const n = cfg.batch_size * cfg.seq_len;
  const inputIds = new Int32Array(n);
  for (let i = 0; i < n; i++) inputIds[i] = 1 + Math.floor(rnd() * (cfg.vocab_size - 1));
  const labels = new Int32Array(cfg.batch_size);
  for (let i = 0; i < labels.length; i++) labels[i] = Math.floor(rnd() * cfg.num_labels);
  return {
    inputIds,
    attentionMask: new Int32Array(n).fill(1),
    tokenTypeIds: new Int32Array(n),
    labels,
    batchSize: cfg.batch_size,
    seqLen: cfg.seq_len,
  };
}

/** The same batch without labels (inference, and the bare loop, which computes its own hard-label CE). */
export function withoutLabels(b: EncodedBatch): EncodedBatch {
  return {
    inputIds: b.inputIds,
    attentionMask: b.attentionMask,
    tokenTypeIds: b.tokenTypeIds,
    batchSize: b.batchSize,
    seqLen: b.seqLen,
  };
}

/** Models, batch and plugin registry of one benchmark run. */
export interface BenchContext {
  cfg: BenchConfig;
  teacher: BertForSequenceClassification;
  student: BertForSequenceClassification;
  batch: EncodedBatch;
  registry: PluginRegistry;
  backend: BackendInfo;
  dispose(): void;
}

/** Build the teacher (frozen weights, eval), the student (variables, dropout) and the registry with the four plugin packages. */
export async function createBenchContext(cfg: BenchConfig, backend: BackendInfo): Promise<BenchContext> {
  const teacher = new BertForSequenceClassification(archConfig(cfg, cfg.teacher, 0), {
    trainable: false,
    seed: cfg.seed,
  });
  const student = new BertForSequenceClassification(archConfig(cfg, cfg.student, cfg.student_dropout), {
    trainable: true,
    seed: cfg.seed + 1,
  });
  const registry = await createRegistry({ builtins: false });
  registry.use(kdPlugins).use(hiddenMsePlugins).use(attentionPlugins).use(projectionPlugins);
  return {
    cfg,
    teacher,
    student,
    batch: makeBatch(cfg),
    registry,
    backend,
    dispose() {
      teacher.dispose();
      student.dispose();
    },
  };
}

/** The distillation config of the step (TextBrewer names via core's schema). */
export function distillationConfigOf(cfg: BenchConfig) {
  const L = cfg.losses;
  return {
    temperature: L.kd.temperature,
    kdLossType: 'ce',
    kdLossWeight: L.kd.weight,
    hardLabelWeight: L.hard_label.weight,
    intermediateMatches: [
      {
        layerT: L.hidden_mse.layer_T,
        layerS: L.hidden_mse.layer_S,
        feature: 'hidden',
        loss: 'hidden_mse',
        weight: L.hidden_mse.weight,
        proj: [L.hidden_mse.proj[0], L.hidden_mse.proj[1], L.hidden_mse.proj[2]] as [string, number, number],
      },
      {
        layerT: L.attention_mse_sum.layer_T,
        layerS: L.attention_mse_sum.layer_S,
        feature: 'attention',
        loss: 'attention_mse_sum',
        weight: L.attention_mse_sum.weight,
      },
    ],
  };
}

/** Map the distiller's TextBrewer loss keys to the PyTorch script's names. */
export function finalLossesOf(cfg: BenchConfig, losses: Record<string, number>): FinalLosses {
  const L = cfg.losses;
  const get = (k: string) => {
    const v = losses[k];
    if (v === undefined) throw new Error(`the distiller reported no "${k}" (got ${Object.keys(losses).join(', ')})`);
    return v;
  };
  return {
    kd: get('unweighted_kd_loss'),
    hard_label: get('unweighted_hard_label_loss'),
    hidden_mse: get(`unweighted_hidden_hidden_mse_${L.hidden_mse.layer_S}_${L.hidden_mse.layer_T}`),
    attention_mse_sum: get(
      `unweighted_attention_attention_mse_sum_${L.attention_mse_sum.layer_S}_${L.attention_mse_sum.layer_T}`,
    ),
  };
}

/** Per-step observation (soak). */
export type StepObserver = (globalStep: number) => void;

/** Timed train steps of one run: all step times (warm-up included) and the last step's losses. */
export interface TrainRun {
  times: number[];
  loss: number;
  losses: FinalLosses;
}

/**
 * Train steps through `GeneralDistiller.train()`, timed between consecutive `stepEnd` events (the first
 * from `trainBegin`). A step interval covers the teacher forward, the student forward, the loss pipeline,
 * the backward, the loss read-back and the AdamW update — and nothing else: `logEvery` is set past the
 * run so no metrics line is written inside the timed steps, and the final checkpoint is written after the
 * last `stepEnd` (outside every interval) into a temporary folder that is removed afterwards.
 */
export async function runDistillerTrain(
  ctx: BenchContext,
  totalSteps: number,
  observe?: StepObserver,
  o2: {
    /** Serve the teacher from this in-memory cache (filled by the first step that misses; may be warm already). */
    teacherCache?: MemoryTeacherCacheStore;
  } = {},
): Promise<TrainRun> {
  const { cfg } = ctx;
  const o = cfg.optimizer;
  const outDir = mkdtempSync(join(tmpdir(), 'distillery-bench-'));
  const distiller = new GeneralDistiller<EncodedBatch, BertOutput, BertOutput>({
    student: ctx.student,
    teacher: ctx.teacher,
    adaptorS: bertAdaptor,
    adaptorT: bertAdaptor,
    registry: ctx.registry,
    backend: ctx.backend.name,
    trainingConfig: {
      numSteps: totalSteps,
      optimizer: { type: 'adamw', lr: o.lr, betas: [o.betas[0], o.betas[1]], eps: o.eps, weightDecay: o.weight_decay },
      maxGradNorm: -1,
      outputDir: outDir,
      logEvery: totalSteps + 1,
      seed: cfg.seed + 2,
    },
    distillationConfig: distillationConfigOf(cfg),
  });
  const warmAtStart = (o2.teacherCache?.size ?? 0) > 0;
  const cache = o2.teacherCache
    ? distiller.useTeacherCache({
        store: o2.teacherCache,
        namespace: `bench:${cfg.name}:${cfg.seed}`,
        // One key per example (its token ids); every example is the full sequence length (mask all ones).
        rowsOf: (b) => {
          const rows = Array.from({ length: b.batchSize }, (_, i) =>
            Array.from(b.inputIds.subarray(i * b.seqLen, (i + 1) * b.seqLen)).join(','),
          );
          return { keys: rows, lengths: rows.map(() => b.seqLen), seqLen: b.seqLen };
        },
      })
    : undefined;
  const times: number[] = [];
  let tPrev = 0;
  let last: { loss: number; losses: Record<string, number> } | undefined;
  distiller.events.on('trainBegin', () => {
    tPrev = performance.now();
  });
  distiller.events.on('stepEnd', (info) => {
    const now = performance.now();
    times.push(now - tPrev);
    last = { loss: info.loss, losses: info.losses };
    observe?.(info.globalStep);
    tPrev = performance.now();
  });
  try {
    await distiller.train({ dataloader: [ctx.batch], numSteps: totalSteps });
  } finally {
    distiller.dispose();
    rmSync(outDir, { recursive: true, force: true });
  }
  if (!last) throw new Error('the distiller ran no step');
  // Only the first step may run the teacher (none when the cache was warm): every timed step must hit.
  const expectLive = warmAtStart ? 0 : 1;
  if (cache && cache.stats.liveBatches !== expectLive)
    throw new Error(`train-cached: ${cache.stats.liveBatches} steps ran the teacher (expected ${expectLive})`);
  return { times, loss: last.loss, losses: finalLossesOf(cfg, last.losses) };
}

/** A hand-written tfjs training step with the same math (the reference for the distiller's overhead). */
export interface BareTrainer {
  /** One step; returns the total loss and the four terms (read back, as `loss.item()`). */
  step(): { loss: number; losses: FinalLosses };
  dispose(): void;
}

/**
 * The same step without the framework: teacher forward in a tidy (not taped), `tf.variableGrads` over the
 * student forward and the four losses written directly in tfjs ops, and AdamW (PyTorch semantics) in
 * plain ops over the student's variables and a hand-made linear projection.
 */
export function createBareTrainer(ctx: BenchContext): BareTrainer {
  const { cfg, teacher, student } = ctx;
  const L = cfg.losses;
  const [, dimS, dimT] = L.hidden_mse.proj;
  const W = tf.variable(
    tf.randomNormal([dimT, dimS], 0, cfg.initializer_range, 'float32', cfg.seed + 3),
    true,
    'bench.bare.proj/weight',
  );
  const bias = tf.variable(tf.zeros([dimT]), true, 'bench.bare.proj/bias');
  const params: tf.Variable[] = [...Object.values(student.parameters()), W, bias];
  const m = params.map((p) => tf.variable(tf.zerosLike(p), false));
  const v = params.map((p) => tf.variable(tf.zerosLike(p), false));
  const batch = withoutLabels(ctx.batch);
  const oneHot = tf.oneHot(tf.tensor1d(ctx.batch.labels!, 'int32'), cfg.num_labels);
  const { lr, eps, weight_decay: wd } = cfg.optimizer;
  const [b1, b2] = cfg.optimizer.betas;
  let t = 0;
  return {
    step() {
      t++;
      const bc1 = 1 - b1 ** t;
      const bc2 = 1 - b2 ** t;
      let parts: tf.Scalar[] = [];
      const value = tf.tidy(() => {
        const outT = teacher.forward(batch, { training: false });
        const { value, grads } = tf.variableGrads(() => {
          const outS = student.forward(batch, { training: true });
          const T = L.kd.temperature;
          const kd = tf.neg(
            tf.mean(tf.sum(tf.mul(tf.softmax(tf.div(outT.logits, T)), tf.logSoftmax(tf.div(outS.logits, T))), -1)),
          ) as tf.Scalar;
          const hard = tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(outS.logits)), -1))) as tf.Scalar;
          const hS = outS.hiddenStates[L.hidden_mse.layer_S]!;
          const projected = tf.reshape(tf.add(tf.matMul(tf.reshape(hS, [-1, dimS]), W, false, true), bias), [
            ...hS.shape.slice(0, -1),
            dimT,
          ]);
          const hidden = tf.mean<tf.Scalar>(tf.squaredDifference(projected, outT.hiddenStates[L.hidden_mse.layer_T]!));
          const att = tf.mean<tf.Scalar>(
            tf.squaredDifference(
              tf.sum(outS.attentions[L.attention_mse_sum.layer_S]!, 1),
              tf.sum(outT.attentions[L.attention_mse_sum.layer_T]!, 1),
            ),
          );
          parts = [kd, hard, hidden, att].map((x) => tf.keep(x));
          return tf.addN([
            tf.mul(kd, L.kd.weight),
            tf.mul(hard, L.hard_label.weight),
            tf.mul(hidden, L.hidden_mse.weight),
            tf.mul(att, L.attention_mse_sum.weight),
          ]) as tf.Scalar;
        }, params);
        params.forEach((p, i) => {
          const g = grads[p.name]!;
          const mi = m[i]!;
          const vi = v[i]!;
          mi.assign(tf.add(tf.mul(mi, b1), tf.mul(g, 1 - b1)));
          vi.assign(tf.add(tf.mul(vi, b2), tf.mul(tf.square(g), 1 - b2)));
          const denom = tf.add(tf.div(tf.sqrt(vi), Math.sqrt(bc2)), eps);
          p.assign(tf.sub(tf.mul(p, 1 - lr * wd), tf.mul(tf.div(mi, denom), lr / bc1)));
        });
        return value;
      });
      const nums = tf.tidy(() => tf.stack(parts).dataSync());
      const loss = value.dataSync()[0]!;
      value.dispose();
      tf.dispose(parts);
      return {
        loss,
        losses: { kd: nums[0]!, hard_label: nums[1]!, hidden_mse: nums[2]!, attention_mse_sum: nums[3]! },
      };
    },
    dispose() {
      tf.dispose([W, bias, oneHot, ...m, ...v]);
    },
  };
}

/** Timed bare steps. */
export function runBareTrain(ctx: BenchContext, totalSteps: number): TrainRun {
  const trainer = createBareTrainer(ctx);
  const times: number[] = [];
  let last: { loss: number; losses: FinalLosses } | undefined;
  try {
    for (let i = 0; i < totalSteps; i++) {
      const t0 = performance.now();
      last = trainer.step();
      times.push(performance.now() - t0);
    }
  } finally {
    trainer.dispose();
  }
  return { times, loss: last!.loss, losses: last!.losses };
}

/** One inference step: forward in a tidy, logits summed and read back. */
export function inferStep(ctx: BenchContext, mode: InferMode): number {
  const batch = withoutLabels(ctx.batch);
  return tf.tidy(() => {
    // teacher-infer: logits, all hidden states and all attention probabilities (the model's defaults);
    // student-infer: eval mode (no dropout), only the logits.
    const out =
      mode === 'teacher-infer'
        ? ctx.teacher.forward(batch, { training: false })
        : ctx.student.forward(batch, { training: false, outputHiddenStates: false, outputAttentions: false });
    return tf.sum(out.logits).dataSync()[0]!;
  });
}

/** Timed inference steps; returns the times and the last checksum. */
export function runInfer(
  ctx: BenchContext,
  mode: InferMode,
  totalSteps: number,
): { times: number[]; checksum: number } {
  const times: number[] = [];
  let checksum = NaN;
  for (let i = 0; i < totalSteps; i++) {
    const t0 = performance.now();
    checksum = inferStep(ctx, mode);
    times.push(performance.now() - t0);
  }
  return { times, checksum };
}

/** Options of {@link runBench}. */
export interface RunBenchOptions {
  mode: BenchMode;
  warmup: number;
  steps: number;
  /** Train mode: 'distiller' (default) or the bare tfjs loop. */
  driver?: 'distiller' | 'bare';
}

/** Run one benchmark and build its JSON line. */
export async function runBench(ctx: BenchContext, o: RunBenchOptions): Promise<BenchResult> {
  const { cfg } = ctx;
  const total = o.warmup + o.steps;
  let times: number[];
  let finalLoss: number | null = null;
  let finalLosses: FinalLosses | null = null;
  let checksum: number | null = null;
  let driver: BenchResult['driver'] = 'forward';
  if (o.mode === 'train-cached' && (o.driver === 'bare' || o.warmup < 1))
    throw new Error('train-cached needs the distiller driver and warmup ≥ 1 (the first step fills the cache)');
  if (o.mode === 'train' || o.mode === 'train-cached') {
    const run =
      o.driver === 'bare'
        ? runBareTrain(ctx, total)
        : await runDistillerTrain(ctx, total, undefined, {
            teacherCache: o.mode === 'train-cached' ? new MemoryTeacherCacheStore() : undefined,
          });
    driver = o.driver === 'bare' ? 'bare-tfjs' : 'GeneralDistiller';
    times = run.times;
    finalLoss = run.loss;
    finalLosses = run.losses;
  } else {
    const run = runInfer(ctx, o.mode, total);
    times = run.times;
    checksum = run.checksum;
  }
  const timed = times.slice(o.warmup);
  const ms = msStats(timed);
  return {
    framework: 'distillery',
    tfjs_version: tf.version_core,
    backend: ctx.backend.name,
    backend_detail: ctx.backend.detail,
    threads: ctx.backend.threads,
    config: cfg.name,
    mode: o.mode,
    driver,
    batch_size: cfg.batch_size,
    seq_len: cfg.seq_len,
    warmup: o.warmup,
    steps: o.steps,
    ms,
    samples_per_s: round2((cfg.batch_size * 1000) / median(timed)),
    final_loss: finalLoss,
    final_losses: finalLosses,
    logits_checksum: checksum,
    ...memoryPeaks(),
  };
}
