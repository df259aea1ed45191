/**
 * The floor of the train step: every matrix product of one step, counted from the bench config and timed alone
 * (warm caches, nothing else running) on the active backend. Their sum is what the products take at the best
 * rate the backend reaches on this machine; the measured step minus that sum is everything else (memory-bound
 * kernels, the framework, the optimizer). `distill-bench --floor` prints it; `scripts/torch_profile.py` gives
 * PyTorch's own split of its step for comparison.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { round2, runBench, type BenchContext } from './bench.js';
import type { BenchArch, BenchConfig } from './config.js';

/** Where in the step a product belongs. */
export type ProductPart = 'teacher' | 'student-forward' | 'student-backward' | 'projection';

/**
 * One kind of matrix product of the step: `batch` products `op(A)[m, k] · op(B)[k, n]`, run `count` times per
 * step. `what` names it (e.g. "Q/K/V stacked x·Wᵀ").
 */
export interface StepProduct {
  part: ProductPart;
  what: string;
  batch: number;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  count: number;
}

/** Multiply-adds × 2 of one product kind over a whole step. */
export function productFlops(p: StepProduct): number {
  return 2 * p.batch * p.m * p.k * p.n * p.count;
}

type Linear = { what: string; rows: number; inF: number; outF: number; count: number };

/** The linear layers of one encoder (x [rows, in] · Wᵀ, W [out, in]) and its pooler and classifier. */
function linears(cfg: BenchConfig, a: BenchArch): Linear[] {
  const rows = cfg.batch_size * cfg.seq_len;
  const h = a.hidden_size;
  const f = a.intermediate_size;
  const layers = a.num_hidden_layers;
  return [
    // The query, key and value layers run as one stacked product (`ParamStore.stacked`).
    { what: 'Q/K/V stacked', rows, inF: h, outF: 3 * h, count: layers },
    { what: 'attention output', rows, inF: h, outF: h, count: layers },
    { what: 'FFN in', rows, inF: h, outF: f, count: layers },
    { what: 'FFN out', rows, inF: f, outF: h, count: layers },
    { what: 'pooler', rows: cfg.batch_size, inF: h, outF: h, count: 1 },
    { what: 'classifier', rows: cfg.batch_size, inF: h, outF: cfg.num_labels, count: 1 },
  ];
}

const forward = (part: ProductPart, l: Linear): StepProduct => ({
  part,
  what: `${l.what} x·Wᵀ`,
  batch: 1,
  m: l.rows,
  k: l.inF,
  n: l.outF,
  transposeA: false,
  transposeB: true,
  count: l.count,
});

/** dX = dY·W and dW = dYᵀ·X of one linear layer. */
const backward = (part: ProductPart, l: Linear): StepProduct[] => [
  {
    part,
    what: `${l.what} dX = dY·W`,
    batch: 1,
    m: l.rows,
    k: l.outF,
    n: l.inF,
    transposeA: false,
    transposeB: false,
    count: l.count,
  },
  {
    part,
    what: `${l.what} dW = dYᵀ·X`,
    batch: 1,
    m: l.outF,
    k: l.rows,
    n: l.inF,
    transposeA: true,
    transposeB: false,
    count: l.count,
  },
];

/** The attention products of one encoder: per (batch, head) pair, q·kᵀ and probs·v (backward: four more). */
function attention(
  cfg: BenchConfig,
  a: BenchArch,
  withBackward: boolean,
  parts: [ProductPart, ProductPart],
): StepProduct[] {
  const pairs = cfg.batch_size * a.num_attention_heads;
  const L = cfg.seq_len;
  const dh = a.hidden_size / a.num_attention_heads;
  const count = a.num_hidden_layers;
  const p = (
    part: ProductPart,
    what: string,
    m: number,
    k: number,
    n: number,
    tA: boolean,
    tB: boolean,
  ): StepProduct => ({
    part,
    what,
    batch: pairs,
    m,
    k,
    n,
    transposeA: tA,
    transposeB: tB,
    count,
  });
  const fwd = [
    p(parts[0], 'attention scores q·kᵀ', L, dh, L, false, true),
    p(parts[0], 'attention probs·v', L, L, dh, false, false),
  ];
  if (!withBackward) return fwd;
  return [
    ...fwd,
    p(parts[1], 'attention d(probs) = dctx·vᵀ', L, dh, L, false, true),
    p(parts[1], 'attention dv = probsᵀ·dctx', L, L, dh, true, false),
    p(parts[1], 'attention dq = dscores·k', L, L, dh, false, false),
    p(parts[1], 'attention dk = dscoresᵀ·q', L, L, dh, true, false),
  ];
}

/**
 * Every matrix product of one train step of `cfg` (the step of `shared/bench/README.md`): the teacher's forward,
 * the student's forward and backward (every input gradient too: the embeddings are trained), and the hidden-state
 * projection's forward and backward.
 */
export function stepProducts(cfg: BenchConfig): StepProduct[] {
  const [, projIn, projOut] = cfg.losses.hidden_mse.proj;
  const proj: Linear = {
    what: 'hidden projection',
    rows: cfg.batch_size * cfg.seq_len,
    inF: projIn,
    outF: projOut,
    count: 1,
  };
  const student = linears(cfg, cfg.student);
  return [
    ...linears(cfg, cfg.teacher).map((l) => forward('teacher', l)),
    ...attention(cfg, cfg.teacher, false, ['teacher', 'teacher']),
    ...student.map((l) => forward('student-forward', l)),
    ...student.flatMap((l) => backward('student-backward', l)),
    ...attention(cfg, cfg.student, true, ['student-forward', 'student-backward']),
    forward('projection', proj),
    ...backward('projection', proj),
  ];
}

/** One product kind with its time alone. */
export interface FloorProduct extends StepProduct {
  /** Fastest of the timed calls (all `batch` products in one call) alone, warm: the least disturbed one. */
  ms_each: number;
  /** `count` × `ms_each`. */
  ms_per_step: number;
  gflops: number;
}

/** What `distill-bench --floor` prints. */
export interface FloorResult {
  framework: 'distillery';
  mode: 'floor';
  backend: string;
  backend_detail: string;
  config: string;
  /** Timed calls per product kind (after 2 untimed ones); the fastest is used. */
  reps: number;
  products: FloorProduct[];
  /** GFLOP per step by part, and in all. */
  gflop: Record<ProductPart | 'total', number>;
  /** Σ count × ms_each: the products at the rate each reaches alone. */
  products_floor_ms: number;
  /** gflop.total / products_floor_ms. */
  products_gflops: number;
  /** Median train step (GeneralDistiller), measured before the products in the same process. */
  step_ms: number;
  /** Fastest of those steps. */
  step_min_ms: number;
  /** step_ms − products_floor_ms: everything that is not a product at its best rate. */
  rest_ms: number;
}

/** Fastest of `reps` calls of one product kind, ms (operands made once; each call's result disposed). */
function timeProduct(p: StepProduct, reps: number): number {
  const shapeA = p.transposeA ? [p.k, p.m] : [p.m, p.k];
  const shapeB = p.transposeB ? [p.n, p.k] : [p.k, p.n];
  const lead = p.batch > 1 ? [p.batch] : [];
  const [a, b] = tf.tidy(() => [
    tf.randomUniform([...lead, ...shapeA], -1, 1, 'float32', 1),
    tf.randomUniform([...lead, ...shapeB], -1, 1, 'float32', 2),
  ]);
  try {
    const once = () => tf.matMul(a, b, p.transposeA, p.transposeB).dispose();
    once();
    once();
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      once();
      times.push(performance.now() - t0);
    }
    return Math.min(...times);
  } finally {
    tf.dispose([a, b]);
  }
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

const shapeKey = (p: StepProduct) => `${p.batch}:${p.m}:${p.k}:${p.n}:${p.transposeA}:${p.transposeB}`;

/**
 * Run `steps` train steps after `warmup` (the measured step), then time every product kind of the step alone
 * (`reps` calls each, the fastest; identical shapes timed once). The fastest call is the floor's measure: on a
 * shared machine the others include time taken by other load. The backends here (native, wasm, cpu) run a product
 * synchronously, so the time of the call is the time of the product.
 */
export async function runFloor(
  ctx: BenchContext,
  o: { reps: number; warmup: number; steps: number },
): Promise<FloorResult> {
  const step = await runBench(ctx, { mode: 'train', warmup: o.warmup, steps: o.steps, driver: 'distiller' });
  const kinds = stepProducts(ctx.cfg);
  const timed = new Map<string, number>();
  const gflop: Record<ProductPart | 'total', number> = {
    teacher: 0,
    'student-forward': 0,
    'student-backward': 0,
    projection: 0,
    total: 0,
  };
  let floorMs = 0;
  const products: FloorProduct[] = kinds.map((p) => {
    const key = shapeKey(p);
    if (!timed.has(key)) timed.set(key, timeProduct(p, o.reps));
    const ms = timed.get(key)!;
    floorMs += ms * p.count;
    const g = productFlops(p) / 1e9;
    gflop[p.part] += g;
    gflop.total += g;
    return {
      ...p,
      // 0.1 µs resolution: the tiny configs' products take microseconds (2 decimals would show 0).
      ms_each: round4(ms),
      ms_per_step: round4(ms * p.count),
      gflops: round2(productFlops({ ...p, count: 1 }) / ms / 1e6),
    };
  });
  for (const k of Object.keys(gflop) as (keyof typeof gflop)[]) gflop[k] = round2(gflop[k]);
  return {
    framework: 'distillery',
    mode: 'floor',
    backend: ctx.backend.name,
    backend_detail: ctx.backend.detail,
    config: ctx.cfg.name,
    reps: o.reps,
    products,
    gflop,
    products_floor_ms: round2(floorMs),
    products_gflops: round2((gflop.total / floorMs) * 1e3),
    step_ms: step.ms.median,
    step_min_ms: step.ms.min,
    rest_ms: round2(step.ms.median - floorMs),
  };
}
