/** Kernel-level benchmark cases: the matmul and elementwise shapes of a BERT step (batch 32, seq 64, hidden 256). */
import * as tf from '@tensorflow/tfjs-core';

/** One benchmark case: builds its inputs, then runs the op on them. */
export interface BenchCase {
  name: string;
  inputs: () => tf.Tensor[];
  run: (xs: tf.Tensor[]) => tf.Tensor;
}

const r = (shape: number[]) => (): tf.Tensor => tf.randomUniform(shape, -1, 1, 'float32', 1);

export const BENCH_CASES: BenchCase[] = [
  {
    name: 'matMul [2048,256]x[256,1024]',
    inputs: () => [r([2048, 256])(), r([256, 1024])()],
    run: ([a, b]) => tf.matMul(a!, b!),
  },
  {
    name: 'matMul [2048,1024]x[1024,256]',
    inputs: () => [r([2048, 1024])(), r([1024, 256])()],
    run: ([a, b]) => tf.matMul(a!, b!),
  },
  {
    name: 'matMul dW: [2048,256]^T x [2048,1024]',
    inputs: () => [r([2048, 256])(), r([2048, 1024])()],
    run: ([a, b]) => tf.matMul(a!, b!, true, false),
  },
  {
    name: 'matMul dX: [2048,1024] x [256,1024]^T',
    inputs: () => [r([2048, 1024])(), r([256, 1024])()],
    run: ([a, b]) => tf.matMul(a!, b!, false, true),
  },
  {
    name: 'batched [128,64,64]x[128,64,64]',
    inputs: () => [r([128, 64, 64])(), r([128, 64, 64])()],
    run: ([a, b]) => tf.matMul(a!, b!),
  },
  {
    name: 'batched QK^T [128,64,64]x[128,64,64]^T',
    inputs: () => [r([128, 64, 64])(), r([128, 64, 64])()],
    run: ([a, b]) => tf.matMul(a!, b!, false, true),
  },
  {
    name: 'add bias [32,64,1024]+[1024]',
    inputs: () => [r([32, 64, 1024])(), r([1024])()],
    run: ([a, b]) => tf.add(a!, b!),
  },
  {
    name: 'mul same-shape [2048,1024]',
    inputs: () => [r([2048, 1024])(), r([2048, 1024])()],
    run: ([a, b]) => tf.mul(a!, b!),
  },
  {
    name: 'sub LN [32,64,256]-[32,64,1]',
    inputs: () => [r([32, 64, 256])(), r([32, 64, 1])()],
    run: ([a, b]) => tf.sub(a!, b!),
  },
  { name: 'exp [128,64,64]', inputs: () => [r([128, 64, 64])()], run: ([a]) => tf.exp(a!) },
  { name: 'erf [2048,1024]', inputs: () => [r([2048, 1024])()], run: ([a]) => tf.erf(a!) },
  { name: 'softmax [128,64,64]', inputs: () => [r([128, 64, 64])()], run: ([a]) => tf.softmax(a!) },
  { name: 'sum bias-grad [2048,1024] axis 0', inputs: () => [r([2048, 1024])()], run: ([a]) => tf.sum(a!, 0) },
  { name: 'mean LN [2048,256] axis -1', inputs: () => [r([2048, 256])()], run: ([a]) => tf.mean(a!, -1, true) },
  {
    name: 'transpose heads [32,64,4,64]',
    inputs: () => [r([32, 64, 4, 64])()],
    run: ([a]) => tf.transpose(a!, [0, 2, 1, 3]),
  },
];

/** Mean ms of `fn` over at least `minReps` runs and ~`minMs` of wall time, after one warm-up. */
export function timeIt(fn: () => void, minReps = 3, minMs = 300): number {
  fn();
  let reps = 0;
  const t0 = performance.now();
  while (reps < minReps || performance.now() - t0 < minMs) {
    fn();
    reps++;
  }
  return (performance.now() - t0) / reps;
}
