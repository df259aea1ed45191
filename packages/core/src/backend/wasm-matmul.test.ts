import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { configureWasmPaths } from './wasm-paths.js';
import {
  planMatMul,
  registerWasmMatMulKernels,
  WASM_MATMUL_MIN_BATCH_WORK,
  WASM_MATMUL_MIN_WORK,
} from './wasm-matmul.js';

/** Deterministic pseudo-random values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Run `f` on `backend` with fresh tensors of `shapes` (same values on every backend); returns the outputs' data. */
async function on(
  backend: string,
  shapes: number[][],
  f: (xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<{ shape: number[]; data: Float32Array }[]> {
  await tf.setBackend(backend);
  const xs = shapes.map((s, i) => tf.tensor(values(size(s), 7 + 31 * i), s));
  const ys = f(xs);
  const list = Array.isArray(ys) ? ys : [ys];
  const out = await Promise.all(list.map(async (y) => ({ shape: y.shape, data: (await y.data()) as Float32Array })));
  tf.dispose([...xs, ...list]);
  return out;
}

function expectClose(
  got: { shape: number[]; data: Float32Array }[],
  want: { shape: number[]; data: Float32Array }[],
): void {
  expect(got.map((g) => g.shape)).toEqual(want.map((w) => w.shape));
  got.forEach((g, j) => {
    const w = want[j]!;
    expect(g.data.length).toBe(w.data.length);
    let worst = 0;
    for (let i = 0; i < w.data.length; i++) {
      worst = Math.max(worst, Math.abs(g.data[i]! - w.data[i]!) / (1 + Math.abs(w.data[i]!)));
    }
    expect(worst).toBeLessThan(1e-4);
  });
}

/** Operand shapes for an [..batch, m, n] product with contraction k, transposed as asked. */
function operands(
  aBatch: number[],
  bBatch: number[],
  m: number,
  k: number,
  n: number,
  ta: boolean,
  tb: boolean,
): number[][] {
  return [
    [...aBatch, ...(ta ? [k, m] : [m, k])],
    [...bBatch, ...(tb ? [n, k] : [k, n])],
  ];
}

const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

// Batch layouts whose reference tfjs-cpu computes correctly (one side single, equal, or a trailing broadcast).
const LAYOUTS: [string, number[], number[]][] = [
  ['2-D', [], []],
  ['batched a, 2-D b (folded)', [3], []],
  ['batched a, [1] b', [2, 2], [1]],
  ['2-D a, batched b', [], [3]],
  ['equal batches', [4], [4]],
  ['rank-4 broadcast [2,3] x [3]', [2, 3], [3]],
];

beforeAll(() => {
  configureWasmPaths();
  // Thresholds 0: every float32 case takes the fast paths, so small shapes exercise them.
  expect(registerWasmMatMulKernels({ minWork: 0, minBatchWork: 0 })).toBe(true);
});

afterAll(() => {
  registerWasmMatMulKernels({ minWork: WASM_MATMUL_MIN_WORK, minBatchWork: WASM_MATMUL_MIN_BATCH_WORK });
});

describe('planMatMul', () => {
  it('broadcasts batch dimensions and indexes the matrices of each side', () => {
    const p = planMatMul([4, 1, 5, 6], [1, 3, 6, 7], false, false)!;
    expect(p.outShape).toEqual([4, 3, 5, 7]);
    expect([p.m, p.n, p.k, p.batchA, p.batchB]).toEqual([5, 7, 6, 4, 3]);
    expect(Array.from(p.aIndex)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(Array.from(p.bIndex)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(planMatMul([2, 5, 6], [3, 6, 7], false, false)).toBeNull();
    expect(planMatMul([5, 6], [5, 7], false, false)).toBeNull();
    expect(planMatMul([6, 5], [5, 7], true, true)?.outShape).toBeUndefined();
    expect(planMatMul([6, 5], [7, 6], true, true)?.outShape).toEqual([5, 7]);
  });
});

describe('BatchMatMul on wasm (fast paths) matches tfjs-cpu', () => {
  for (const [name, aBatch, bBatch] of LAYOUTS) {
    for (const [ta, tb] of TRANSPOSES) {
      it(`${name}, transposeA=${ta}, transposeB=${tb}`, async () => {
        const shapes = operands(aBatch, bBatch, 5, 7, 6, ta, tb);
        const run = ([a, b]: tf.Tensor[]) => tf.matMul(a!, b!, ta, tb);
        expectClose(await on('wasm', shapes, run), await on('cpu', shapes, run));
      });
    }
  }

  it('general broadcast [4,1] x [1,3] against per-matrix products', async () => {
    const [m, k, n] = [5, 4, 3];
    const shapes = operands([4, 1], [1, 3], m, k, n, true, true);
    const [got] = await on('wasm', shapes, ([a, b]) => tf.matMul(a!, b!, true, true));
    const want = await on('cpu', shapes, ([a, b]) => {
      const as = tf.unstack(tf.reshape(a!, [4, k, m])),
        bs = tf.unstack(tf.reshape(b!, [3, n, k]));
      const blocks: tf.Tensor[] = [];
      for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) blocks.push(tf.matMul(as[i]!, bs[j]!, true, true));
      return tf.reshape(tf.stack(blocks), [4, 3, m, n]);
    });
    expectClose([got!], want);
  });

  it('frees every intermediate (tensors and wasm data)', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor(values(4 * 6 * 5, 1), [4, 6, 5]);
    const b = tf.tensor(values(4 * 7 * 6, 2), [4, 7, 6]);
    const w = tf.tensor(values(7 * 5, 3), [7, 5]);
    const before = { tensors: tf.memory().numTensors, data: tf.engine().backend.numDataIds() };
    for (const [ta, tb] of TRANSPOSES) {
      tf.tidy(() => {
        tf.matMul(a, b, true, true);
        tf.matMul(a, w, false, true);
        tf.matMul(ta ? a : tf.transpose(a, [0, 2, 1]), tb ? b : tf.transpose(b, [0, 2, 1]), ta, tb);
      });
    }
    expect(tf.memory().numTensors).toBe(before.tensors);
    expect(tf.engine().backend.numDataIds()).toBe(before.data);
    tf.dispose([a, b, w]);
  });

  it('a larger product with the default thresholds', async () => {
    registerWasmMatMulKernels({ minWork: WASM_MATMUL_MIN_WORK, minBatchWork: WASM_MATMUL_MIN_BATCH_WORK });
    try {
      const shapes = [
        [96, 80],
        [64, 96],
        [2, 40, 48],
        [2, 40, 32],
      ];
      const run = ([a, b, c, d]: tf.Tensor[]) => [tf.matMul(a!, b!, true, true), tf.matMul(c!, d!, true, false)];
      expectClose(await on('wasm', shapes, run), await on('cpu', shapes, run));
    } finally {
      registerWasmMatMulKernels({ minWork: 0, minBatchWork: 0 });
    }
  });
});

describe('_FusedMatMul on wasm (fast paths) matches tfjs-cpu', () => {
  for (const [ta, tb] of TRANSPOSES) {
    it(`bias + relu, transposeA=${ta}, transposeB=${tb}; batched a folded`, async () => {
      const shapes = [...operands([], [], 5, 7, 6, ta, tb), [6], ...operands([3], [], 4, 7, 6, ta, tb)];
      const run = ([a, b, bias, c, d]: tf.Tensor[]) => [
        tf.fused.matMul({
          a: a as tf.Tensor2D,
          b: b as tf.Tensor2D,
          transposeA: ta,
          transposeB: tb,
          bias,
          activation: 'relu',
        }),
        tf.fused.matMul({
          a: c as tf.Tensor3D,
          b: d as tf.Tensor2D,
          transposeA: ta,
          transposeB: tb,
          bias,
          activation: 'linear',
        }),
        tf.fused.matMul({ a: c as tf.Tensor3D, b: d as tf.Tensor2D, transposeA: ta, transposeB: tb }),
      ];
      expectClose(await on('wasm', shapes, run), await on('cpu', shapes, run));
    });
  }
});

describe('training-step gradients on wasm match tfjs-cpu', () => {
  it('dense layers (W stored [out, in]), batched attention and a fused layer', async () => {
    // x [2,6,8]; W1 [12,8]; b1 [12]; W2 [4,12]; Wf [8,8]
    const shapes = [[2, 6, 8], [12, 8], [12], [4, 12], [8, 8]];
    const run = ([x, w1, b1, w2, wf]: tf.Tensor[]) => {
      const f = (xx: tf.Tensor, a: tf.Tensor, bb: tf.Tensor, c: tf.Tensor, d: tf.Tensor): tf.Scalar => {
        const flat = tf.reshape<tf.Rank.R2>(xx, [12, 8]);
        const h = tf.relu(tf.add(tf.matMul(flat, a, false, true), bb)); // [12, 12]
        const y = tf.matMul(h, c, false, true); // [12, 4]
        const q = tf.reshape(xx, [2, 6, 8]);
        const scores = tf.softmax(tf.matMul(q, q, false, true)); // [2, 6, 6]
        const ctx = tf.matMul(scores, q); // [2, 6, 8]
        const z = tf.fused.matMul({
          a: tf.reshape<tf.Rank.R2>(ctx, [12, 8]),
          b: d,
          transposeB: true,
          activation: 'relu',
        });
        return tf.add<tf.Scalar>(tf.sum(tf.square(y)), tf.sum(tf.mul(z, z)));
      };
      const { value, grads } = tf.valueAndGrads(f)([x!, w1!, b1!, w2!, wf!]);
      return [value, ...grads];
    };
    expectClose(await on('wasm', shapes, run), await on('cpu', shapes, run));
  });
});

describe('registerWasmMatMulKernels', () => {
  it('is idempotent, keeps the stock setup functions and leaves other backends alone', () => {
    const k = tf.getKernel('BatchMatMul', 'wasm');
    const f = tf.getKernel('_FusedMatMul', 'wasm');
    expect(registerWasmMatMulKernels()).toBe(true);
    expect(tf.getKernel('BatchMatMul', 'wasm').kernelFunc).toBe(k.kernelFunc);
    expect(tf.getKernel('_FusedMatMul', 'wasm').kernelFunc).toBe(f.kernelFunc);
    expect(typeof k.setupFunc).toBe('function');
    expect(tf.getKernel('BatchMatMul', 'cpu').kernelFunc).not.toBe(k.kernelFunc);
  });
});
