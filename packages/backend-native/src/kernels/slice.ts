/**
 * Slice as copies of its contiguous runs, heap to heap. The stock wasm kernel first reads the *whole* input out of
 * the wasm memory into a JavaScript array (`readSync`), then slices that: for BERT's first-token slice of a
 * [32, 64, 384] hidden state (the pooler's input) it copied 3 MB to keep 48 KB, in every forward pass, and left the
 * copy to the garbage collector.
 */
import { slice_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasm, heapOf, offsetOf, sizeOf, stridesOf } from '../heap.js';
import { override, stockKernel } from './stock.js';

/** Bytes per element of the dtypes copied here (strings and complex go to the stock kernel). */
const ELEMENT_BYTES: Readonly<Record<string, 1 | 4>> = { float32: 4, int32: 4, bool: 1 };

function sliceKernel(fallback: KernelConfig): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const bytes = ELEMENT_BYTES[x.dtype];
    if (bytes === undefined) return fallback.kernelFunc(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
    const backend = asWasm(args.backend);
    const out = backend.makeOutput(s, x.dtype);
    const n = sizeOf(s);
    if (n === 0) return out;
    const heap = heapOf(backend); // after makeOutput: an allocation may have grown the memory
    const View = bytes === 4 ? Int32Array : Uint8Array; // bit copies: float32 NaN payloads are kept
    const src = new View(heap, offsetOf(backend, x), sizeOf(x.shape));
    const dst = new View(heap, offsetOf(backend, out), n);
    // Axes after `d` are taken whole, so each output run of s[d]·strides[d] elements is contiguous in x.
    let d = s.length - 1;
    while (d >= 0 && s[d] === x.shape[d]) d--;
    if (d < 0) {
      dst.set(src);
      return out;
    }
    const strides = stridesOf(x.shape);
    const run = s[d]! * strides[d]!;
    let start = 0;
    for (let k = 0; k <= d; k++) start += b[k]! * strides[k]!;
    const idx = new Array<number>(d).fill(0); // odometer over the axes before d
    for (let w = 0; w < n; w += run) {
      let off = start;
      for (let k = 0; k < d; k++) off += idx[k]! * strides[k]!;
      dst.set(src.subarray(off, off + run), w);
      for (let k = d - 1; k >= 0; k--) {
        if (++idx[k]! < s[k]!) break;
        idx[k] = 0;
      }
    }
    return out;
  };
}

/** The Slice kernel config for `backendName`, falling back to `fallbackBackend`'s for other dtypes. */
export function sliceKernels(backendName: string, fallbackBackend: string): KernelConfig[] {
  const stock = stockKernel('Slice', fallbackBackend);
  return [override(stock, backendName, sliceKernel(stock))];
}
