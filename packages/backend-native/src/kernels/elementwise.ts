/**
 * Native elementwise kernels for the 'native' backend: broadcasting binary ops, unary math, Softmax and a
 * zero-copy Identity and same-dtype Cast. Inputs other than float32 go to the stock wasm kernels.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon, NativeOpCodes } from '../addon.js';
import { asWasm, broadcastStrides, heapOf, offsetOf, sizeOf } from '../heap.js';
import { override, stockKernel } from './stock.js';

/** tfjs binary kernel name → the addon's op (its code comes from `addon.ops.binary`, exported by the C++ side). */
export const BINARY_OPS = {
  Add: 'add',
  Sub: 'sub',
  Multiply: 'mul',
  RealDiv: 'div',
  SquaredDifference: 'squaredDiff',
  Maximum: 'max',
  Minimum: 'min',
} as const satisfies Record<string, keyof NativeOpCodes['binary']>;

/** tfjs unary kernel name → the addon's op (its code comes from `addon.ops.unary`). */
export const UNARY_OPS = {
  Exp: 'exp',
  Erf: 'erf',
  Tanh: 'tanh',
  Sqrt: 'sqrt',
  Rsqrt: 'rsqrt',
  Neg: 'neg',
  Square: 'square',
  Log: 'log',
  Sigmoid: 'sigmoid',
  Relu: 'relu',
  Abs: 'abs',
  Reciprocal: 'reciprocal',
} as const satisfies Record<string, keyof NativeOpCodes['unary']>;

/** The addon's code of an op, failing loudly when an addon of another version lacks it. */
function opCode(table: Readonly<Record<string, number>> | undefined, op: string): number {
  const code = table?.[op];
  if (typeof code !== 'number')
    throw new Error(
      `the native addon does not export op "${op}" (rebuild it: npm run build:native -w @distillery/backend-native)`,
    );
  return code;
}

function binaryKernel(addon: NativeAddon, op: number, fallback: KernelConfig): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback.kernelFunc(args);
    const backend = asWasm(args.backend);
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.makeOutput(outShape, 'float32');
    if (sizeOf(outShape) === 0) return out;
    const shape = Int32Array.from(outShape);
    addon.binary(
      heapOf(backend),
      op,
      offsetOf(backend, a),
      offsetOf(backend, b),
      offsetOf(backend, out),
      shape,
      broadcastStrides(a.shape, outShape),
      broadcastStrides(b.shape, outShape),
    );
    return out;
  };
}

function unaryKernel(addon: NativeAddon, op: number, fallback: KernelConfig): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== 'float32') return fallback.kernelFunc(args);
    const backend = asWasm(args.backend);
    const out = backend.makeOutput(x.shape, 'float32');
    addon.unary(heapOf(backend), op, offsetOf(backend, x), offsetOf(backend, out), sizeOf(x.shape));
    return out;
  };
}

function softmaxKernel(addon: NativeAddon, fallback: KernelConfig): KernelFunc {
  return (args) => {
    const { logits } = args.inputs as { logits: TensorInfo };
    const dim = (args.attrs as { dim?: number }).dim ?? -1;
    const rank = logits.shape.length;
    if (logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1)) return fallback.kernelFunc(args);
    const backend = asWasm(args.backend);
    const cols = logits.shape[rank - 1]!;
    const out = backend.makeOutput(logits.shape, 'float32');
    if (cols > 0)
      addon.softmax(
        heapOf(backend),
        offsetOf(backend, logits),
        offsetOf(backend, out),
        sizeOf(logits.shape) / cols,
        cols,
      );
    return out;
  };
}

/** Identity without a copy: tensors are immutable, so the output shares the input's buffer (as tfjs-cpu does). */
function identityKernel(fallback: KernelConfig): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string') return fallback.kernelFunc(args);
    asWasm(args.backend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/** Cast to the same dtype without a copy; real conversions use the stock kernel. */
function castKernel(fallback: KernelConfig): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== (args.attrs as { dtype?: string }).dtype || x.dtype === 'string') return fallback.kernelFunc(args);
    asWasm(args.backend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/** Elementwise kernel configs for `backendName`, falling back to `fallbackBackend`'s stock kernels. */
export function elementwiseKernels(addon: NativeAddon, backendName: string, fallbackBackend: string): KernelConfig[] {
  const out: KernelConfig[] = [];
  for (const [name, op] of Object.entries(BINARY_OPS)) {
    const stock = stockKernel(name, fallbackBackend);
    out.push(override(stock, backendName, binaryKernel(addon, opCode(addon.ops?.binary, op), stock)));
  }
  for (const [name, op] of Object.entries(UNARY_OPS)) {
    const stock = stockKernel(name, fallbackBackend);
    out.push(override(stock, backendName, unaryKernel(addon, opCode(addon.ops?.unary, op), stock)));
  }
  const softmax = stockKernel('Softmax', fallbackBackend);
  out.push(override(softmax, backendName, softmaxKernel(addon, softmax)));
  const identity = stockKernel('Identity', fallbackBackend);
  out.push(override(identity, backendName, identityKernel(identity)));
  const cast = stockKernel('Cast', fallbackBackend);
  out.push(override(cast, backendName, castKernel(cast)));
  return out;
}
