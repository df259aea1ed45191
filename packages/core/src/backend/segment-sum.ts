/**
 * UnsortedSegmentSum as an O(rows × inner) scatter-add, for any backend that can read and make tensors.
 *
 * tfjs-cpu's kernel loops over every segment for every row (O(vocab × tokens × hidden): minutes per step for
 * an embedding gradient); tfjs-wasm has no kernel at all, so `tf.grad` of `tf.gather` fails there.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { DataType, KernelBackend, KernelConfig, KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';

/** Sum rows of `x` ([rows, inner], flattened) into `numSegments` segments; ids out of range are dropped. */
export function segmentSumValues(
  x: ArrayLike<number>,
  ids: ArrayLike<number>,
  numSegments: number,
  inner: number,
  out: Float32Array | Int32Array,
): void {
  out.fill(0);
  for (let r = 0; r < ids.length; r++) {
    const s = ids[r]!;
    if (s < 0 || s >= numSegments) continue;
    const dst = s * inner,
      src = r * inner;
    for (let j = 0; j < inner; j++) out[dst + j] = out[dst + j]! + x[src + j]!;
  }
}

interface WritableBackend extends KernelBackend {
  makeOutput?: (shape: number[], dtype: DataType, memoryOffset?: number, values?: TypedArray) => TensorInfo;
  makeTensorInfo?: (shape: number[], dtype: DataType, values?: TypedArray) => TensorInfo;
}

/** The kernel function (backend-agnostic: reads inputs with `readSync`, writes one output). */
export const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const b = backend as WritableBackend;
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = innerShape.reduce((p, d) => p * d, 1);
  const dtype: DataType = x.dtype === 'int32' ? 'int32' : 'float32';
  const out = dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  const xv = b.readSync(x.dataId) as TypedArray;
  const ids = b.readSync(segmentIds.dataId) as TypedArray;
  segmentSumValues(xv, ids, numSegments, inner, out);
  const shape = [numSegments, ...innerShape];
  // tfjs-backend-wasm (and 'native', built on it) allocate through makeOutput(shape, dtype, offset, values);
  // tfjs-cpu's makeOutput has another signature, so it is told apart by the wasm module it carries.
  if ('wasm' in b && typeof b.makeOutput === 'function') return b.makeOutput(shape, dtype, undefined, out);
  if (typeof b.makeTensorInfo === 'function') return b.makeTensorInfo(shape, dtype, out);
  throw new Error('UnsortedSegmentSum: backend cannot create tensors');
};

/**
 * Register the scatter-add UnsortedSegmentSum for `backends` (default 'cpu' and 'wasm'), replacing an
 * existing kernel. With `onlyIfMissing`, backends that already have one (e.g. 'native', which ships its own
 * zero-copy kernel) are left alone. Returns the backends registered.
 */
export function registerSegmentSumKernels(
  backends: readonly string[] = ['cpu', 'wasm'],
  onlyIfMissing = false,
): string[] {
  const done: string[] = [];
  for (const backendName of backends) {
    const existing = getKernel('UnsortedSegmentSum', backendName);
    if (existing) {
      if (onlyIfMissing || existing.kernelFunc === unsortedSegmentSum) continue;
      unregisterKernel('UnsortedSegmentSum', backendName);
    }
    const config: KernelConfig = { kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: unsortedSegmentSum };
    registerKernel(config);
    done.push(backendName);
  }
  return done;
}
