/** Zero-copy access to tensors of a tfjs-backend-wasm backend: byte offsets into the wasm memory. */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of `BackendWasm` the native kernels use. */
export interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number; refCount: number } };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  incRef(dataId: object): void;
  refCount(dataId: object): number;
}

/** View a kernel's backend as a wasm backend. */
export function asWasm(backend: unknown): WasmBackendLike {
  return backend as WasmBackendLike;
}

/** Byte offset of a tensor's data in the wasm memory. */
export function offsetOf(backend: WasmBackendLike, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/**
 * The wasm memory as it is *now*. Take it only after every output of a kernel has been allocated:
 * an allocation may grow the memory, which detaches earlier ArrayBuffers.
 */
export function heapOf(backend: WasmBackendLike): ArrayBuffer {
  return backend.wasm.HEAPU8.buffer as ArrayBuffer;
}

/** Row-major element strides of `shape`. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Number of elements of `shape`. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Strides of `inShape` broadcast to `outShape` (numpy rules): 0 where the input is broadcast.
 */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const strides = stridesOf(inShape);
  const out = new Int32Array(outShape.length);
  const shift = outShape.length - inShape.length;
  for (let d = 0; d < outShape.length; d++) {
    const di = d - shift;
    out[d] = di < 0 || inShape[di] === 1 ? 0 : strides[di]!;
  }
  return out;
}
