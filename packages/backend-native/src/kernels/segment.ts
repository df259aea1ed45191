/**
 * UnsortedSegmentSum (the gradient of gather / embedding lookups) as an O(tokens × hidden) scatter-add, in
 * place on the wasm heap. tfjs-backend-wasm has no such kernel at all.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasm, heapOf, sizeOf } from '../heap.js';

const segmentSum: KernelFunc = (args) => {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const backend = asWasm(args.backend);
  const inner = sizeOf(x.shape.slice(segmentIds.shape.length));
  const rows = sizeOf(segmentIds.shape);
  const outDtype = x.dtype === 'int32' ? 'int32' : 'float32';
  const out = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], outDtype);
  const heap = heapOf(backend);
  const off = (t: TensorInfo): number => backend.dataIdMap.get(t.dataId).memoryOffset;
  const Arr = outDtype === 'int32' ? Int32Array : Float32Array;
  const o = new Arr(heap, off(out), numSegments * inner);
  o.fill(0);
  const xs = new Arr(heap, off(x), rows * inner);
  const ids = new Int32Array(heap, off(segmentIds), rows);
  for (let r = 0; r < rows; r++) {
    const s = ids[r]!;
    if (s < 0 || s >= numSegments) continue;
    const dst = s * inner, src = r * inner;
    for (let j = 0; j < inner; j++) o[dst + j]! += xs[src + j]!;
  }
  return out;
};

/** The UnsortedSegmentSum kernel config for a wasm-based backend named `backendName`. */
export function segmentSumKernel(backendName: string): KernelConfig {
  return { kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: segmentSum };
}
