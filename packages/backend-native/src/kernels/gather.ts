/**
 * Gather (GatherV2) and its gradient UnsortedSegmentSum as native row copies / an O(tokens × hidden)
 * scatter-add, and Transpose as row copies, in place on the wasm heap. tfjs-backend-wasm has no UnsortedSegmentSum at all, and its
 * gather is a generic index loop.
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { asWasm, heapOf, offsetOf, sizeOf, stridesOf } from '../heap.js';
import { override, stockKernel } from './stock.js';

function segmentSumKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = args.attrs as unknown as { numSegments: number };
    const backend = asWasm(args.backend);
    const innerShape = x.shape.slice(segmentIds.shape.length);
    const inner = sizeOf(innerShape);
    const rows = sizeOf(segmentIds.shape);
    const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
    const out = backend.makeOutput([numSegments, ...innerShape], dtype);
    const heap = heapOf(backend);
    if (dtype === 'float32') {
      addon.segmentSum(
        heap,
        offsetOf(backend, x),
        offsetOf(backend, segmentIds),
        offsetOf(backend, out),
        rows,
        inner,
        numSegments,
      );
      return out;
    }
    const o = new Int32Array(heap, offsetOf(backend, out), numSegments * inner).fill(0);
    const xs = new Int32Array(heap, offsetOf(backend, x), rows * inner);
    const ids = new Int32Array(heap, offsetOf(backend, segmentIds), rows);
    for (let r = 0; r < rows; r++) {
      const s = ids[r]!;
      if (s < 0 || s >= numSegments) continue;
      for (let j = 0; j < inner; j++) o[s * inner + j]! += xs[r * inner + j]!;
    }
    return out;
  };
}

function gatherKernel(addon: NativeAddon, fallback: KernelConfig): KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims?: number };
    if (x.dtype !== 'float32' || indices.dtype !== 'int32' || (batchDims ?? 0) !== 0) return fallback.kernelFunc(args);
    const ax = util.parseAxisParam(axis, x.shape)[0]!;
    const backend = asWasm(args.backend);
    const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
    const out = backend.makeOutput(outShape, 'float32');
    if (sizeOf(outShape) === 0) return out;
    addon.gather(
      heapOf(backend),
      offsetOf(backend, x),
      offsetOf(backend, indices),
      offsetOf(backend, out),
      sizeOf(x.shape.slice(0, ax)),
      x.shape[ax]!,
      sizeOf(indices.shape),
      sizeOf(x.shape.slice(ax + 1)),
    );
    return out;
  };
}

function transposeKernel(addon: NativeAddon, fallback: KernelConfig): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { perm } = args.attrs as unknown as { perm: number[] };
    if (x.dtype !== 'float32') return fallback.kernelFunc(args);
    const backend = asWasm(args.backend);
    const outShape = perm.map((p) => x.shape[p]!);
    const out = backend.makeOutput(outShape, 'float32');
    if (sizeOf(outShape) === 0) return out;
    const strides = stridesOf(x.shape);
    addon.transpose(
      heapOf(backend),
      offsetOf(backend, x),
      offsetOf(backend, out),
      Int32Array.from(outShape),
      Int32Array.from(perm.map((p) => strides[p]!)),
    );
    return out;
  };
}

/** GatherV2, UnsortedSegmentSum and Transpose kernel configs for `backendName`. */
export function gatherKernels(addon: NativeAddon, backendName: string, fallbackBackend: string): KernelConfig[] {
  const gather = stockKernel('GatherV2', fallbackBackend);
  const transpose = stockKernel('Transpose', fallbackBackend);
  return [
    override(transpose, backendName, transposeKernel(addon, transpose)),
    override(gather, backendName, gatherKernel(addon, gather)),
    { kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: segmentSumKernel(addon) },
  ];
}
