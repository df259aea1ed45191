/**
 * Native Sum and Mean over any contiguous block of axes (bias gradients sum over the leading axes,
 * LayerNorm statistics over the last). Other axis sets and non-float32 inputs use the stock wasm kernels.
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { asWasm, heapOf, offsetOf, sizeOf } from '../heap.js';
import { override, stockKernel } from './stock.js';

/** The reduction viewed as [outer, reduce, inner], or null when the axes are not one contiguous block. */
export function reductionView(
  shape: readonly number[],
  axes: readonly number[],
): {
  outer: number;
  reduce: number;
  inner: number;
  outShape: number[];
  keptShape: number[];
} | null {
  const sorted = [...new Set(axes)].sort((x, y) => x - y);
  // Size-1 axes do not change the layout, so they may be reduced or kept freely.
  const real = sorted.filter((ax) => shape[ax] !== 1);
  for (let i = 1; i < real.length; i++) {
    for (let ax = real[i - 1]! + 1; ax < real[i]!; ax++) if (shape[ax] !== 1) return null;
  }
  const first = real.length ? real[0]! : shape.length;
  const last = real.length ? real[real.length - 1]! : shape.length - 1;
  const outer = sizeOf(shape.slice(0, first));
  const reduce = sizeOf(shape.slice(first, last + 1));
  const inner = sizeOf(shape.slice(last + 1));
  const outShape = shape.filter((_, i) => !sorted.includes(i));
  const keptShape = shape.map((d, i) => (sorted.includes(i) ? 1 : d));
  return { outer, reduce, inner, outShape, keptShape };
}

function reduceKernel(addon: NativeAddon, mean: boolean, fallback: KernelConfig): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== 'float32') return fallback.kernelFunc(args);
    const axes = util.parseAxisParam(axis, x.shape);
    const view = reductionView(x.shape, axes);
    if (view === null || sizeOf(x.shape) === 0) return fallback.kernelFunc(args);
    const backend = asWasm(args.backend);
    const out = backend.makeOutput(keepDims ? view.keptShape : view.outShape, 'float32');
    const scale = mean ? 1 / view.reduce : 1;
    addon.reduceSum(
      heapOf(backend),
      offsetOf(backend, x),
      offsetOf(backend, out),
      view.outer,
      view.reduce,
      view.inner,
      scale,
    );
    return out;
  };
}

/** Sum and Mean kernel configs for `backendName`. */
export function reduceKernels(addon: NativeAddon, backendName: string, fallbackBackend: string): KernelConfig[] {
  const sum = stockKernel('Sum', fallbackBackend);
  const mean = stockKernel('Mean', fallbackBackend);
  return [
    override(sum, backendName, reduceKernel(addon, false, sum)),
    override(mean, backendName, reduceKernel(addon, true, mean)),
  ];
}
