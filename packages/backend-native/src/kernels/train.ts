/**
 * Fused kernels of the BERT training step, registered on the 'native' backend only (contracts in
 * `@distillery/core/kernels`; callers keep their tfjs-ops path elsewhere):
 *
 * - `DistilleryDropout` — `{x}`, attrs {@link DropoutAttrs}: inverted dropout with a Philox-4x32-10 mask
 *   (mask generation and apply in one pass; the gradient is the same kernel on `dy`, mask regenerated);
 * - `DistilleryDropoutAddLayerNorm` / `…Grad` — `LayerNorm(dropout(x) + residual)` and its four gradients;
 * - `DistilleryAttentionSoftmax` / `…Grad` — `softmax(scale · scores + mask)` with the `[B, 1, 1, Lk]`
 *   additive mask, and its gradient with respect to `scores`;
 * - `DistilleryLinearGelu` — `{x, weight, bias}`: `pre = x·Wᵀ + bias` (BLAS) and `GELU(pre)` in one epilogue
 *   pass, outputs `[y, pre]`; `DistilleryLinearGeluInfer` the same without `pre` (inference, GELU in place);
 * - `DistillerySumSquares` — any number of tensors → `Σ x²` (the global gradient norm's reduction).
 *
 * float32 only (other dtypes throw: callers route them to the tfjs ops).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  FUSED_KERNEL_NAMES as K,
  type AttentionSoftmaxAttrs,
  type AttentionSoftmaxGradInputs,
  type AttentionSoftmaxInputs,
  type DropoutAddLayerNormAttrs,
  type DropoutAddLayerNormGradInputs,
  type DropoutAddLayerNormInputs,
  type DropoutAttrs,
  type DropoutInputs,
  type FusedKernelName,
  type LinearGeluInputs,
} from '@distillery/core/kernels';
import type { NativeAddon } from '../addon.js';
import { asWasm, heapOf, offsetOf, sizeOf } from '../heap.js';
import { check, dropoutArgs, float32, rowsCols, sameSize } from './checks.js';

function dropoutKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { x } = args.inputs as unknown as DropoutInputs;
    const d = dropoutArgs(K.dropout, args.attrs as unknown as DropoutAttrs);
    float32(K.dropout, x);
    const backend = asWasm(args.backend);
    const y = backend.makeOutput(x.shape, 'float32');
    const n = sizeOf(x.shape);
    if (n > 0) addon.dropout(heapOf(backend), offsetOf(backend, x), offsetOf(backend, y), n, ...d);
    return y;
  };
}

function dropoutAddLayerNormKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { x, residual, gamma, beta } = args.inputs as unknown as DropoutAddLayerNormInputs;
    const attrs = args.attrs as unknown as DropoutAddLayerNormAttrs;
    const name = K.dropoutAddLayerNorm;
    const d = dropoutArgs(name, attrs);
    float32(name, x, residual, gamma, beta);
    const { rows, cols } = rowsCols(x);
    sameSize(name, rows * cols, residual);
    sameSize(name, cols, gamma, beta);
    const backend = asWasm(args.backend);
    const y = backend.makeOutput(x.shape, 'float32');
    const mean = backend.makeOutput([rows], 'float32');
    const rstd = backend.makeOutput([rows], 'float32');
    if (rows > 0) {
      addon.dropoutAddLayerNorm(
        heapOf(backend),
        offsetOf(backend, x),
        offsetOf(backend, residual),
        offsetOf(backend, gamma),
        offsetOf(backend, beta),
        offsetOf(backend, y),
        offsetOf(backend, mean),
        offsetOf(backend, rstd),
        rows,
        cols,
        attrs.epsilon,
        ...d,
      );
    }
    return [y, mean, rstd];
  };
}

function dropoutAddLayerNormGradKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { dy, x, residual, gamma, mean, rstd } = args.inputs as unknown as DropoutAddLayerNormGradInputs;
    const name = K.dropoutAddLayerNormGrad;
    const d = dropoutArgs(name, args.attrs as unknown as DropoutAttrs);
    float32(name, dy, x, residual, gamma, mean, rstd);
    const { rows, cols } = rowsCols(x);
    sameSize(name, rows * cols, dy, residual);
    sameSize(name, cols, gamma);
    sameSize(name, rows, mean, rstd);
    const backend = asWasm(args.backend);
    const dx = backend.makeOutput(x.shape, 'float32');
    const dres = backend.makeOutput(residual.shape, 'float32');
    const dgamma = backend.makeOutput(gamma.shape, 'float32');
    const dbeta = backend.makeOutput(gamma.shape, 'float32');
    if (rows > 0) {
      addon.dropoutAddLayerNormGrad(
        heapOf(backend),
        offsetOf(backend, dy),
        offsetOf(backend, x),
        offsetOf(backend, residual),
        offsetOf(backend, gamma),
        offsetOf(backend, mean),
        offsetOf(backend, rstd),
        offsetOf(backend, dx),
        offsetOf(backend, dres),
        offsetOf(backend, dgamma),
        offsetOf(backend, dbeta),
        rows,
        cols,
        ...d,
      );
    } else if (cols > 0) {
      // No rows: zero parameter gradients (wasm's malloc does not clear memory).
      new Float32Array(heapOf(backend), offsetOf(backend, dgamma), cols).fill(0);
      new Float32Array(heapOf(backend), offsetOf(backend, dbeta), cols).fill(0);
    }
    return [dx, dres, dgamma, dbeta];
  };
}

function attentionSoftmaxKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { scores, mask } = args.inputs as unknown as AttentionSoftmaxInputs;
    const { scale } = args.attrs as unknown as AttentionSoftmaxAttrs;
    const name = K.attentionSoftmax;
    float32(name, scores, mask);
    const s = scores.shape;
    check(name, s.length === 4, () => `scores must be [B, H, Lq, Lk], got [${s.join(', ')}]`);
    const [b, h, lq, lk] = s as [number, number, number, number];
    const m = mask.shape;
    check(
      name,
      m.length === 4 && m[0] === b && m[1] === 1 && m[2] === 1 && m[3] === lk,
      () => `mask must be [${b}, 1, 1, ${lk}] for scores [${s.join(', ')}], got [${m.join(', ')}]`,
    );
    const backend = asWasm(args.backend);
    const out = backend.makeOutput(s, 'float32');
    const rows = b * h * lq;
    if (rows > 0 && lk > 0) {
      addon.attentionSoftmax(
        heapOf(backend),
        offsetOf(backend, scores),
        offsetOf(backend, mask),
        offsetOf(backend, out),
        rows,
        lk,
        h * lq,
        scale,
      );
    }
    return out;
  };
}

function attentionSoftmaxGradKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { dy, probs } = args.inputs as unknown as AttentionSoftmaxGradInputs;
    const { scale } = args.attrs as unknown as AttentionSoftmaxAttrs;
    const name = K.attentionSoftmaxGrad;
    float32(name, dy, probs);
    const { rows, cols } = rowsCols(probs);
    sameSize(name, rows * cols, dy);
    const backend = asWasm(args.backend);
    const ds = backend.makeOutput(probs.shape, 'float32');
    if (rows > 0)
      addon.attentionSoftmaxGrad(
        heapOf(backend),
        offsetOf(backend, dy),
        offsetOf(backend, probs),
        offsetOf(backend, ds),
        rows,
        cols,
        scale,
      );
    return ds;
  };
}

function linearGeluKernel(addon: NativeAddon, keepPre: boolean): KernelFunc {
  return (args) => {
    const { x, weight, bias } = args.inputs as unknown as LinearGeluInputs;
    const name = keepPre ? K.linearGelu : K.linearGeluInfer;
    float32(name, x, weight, bias);
    const k = x.shape[x.shape.length - 1]!;
    check(
      name,
      x.shape.length >= 2 && weight.shape.length === 2 && k === weight.shape[1],
      () =>
        `x [..., K] (rank ≥ 2) and weight [N, K] needed, got [${x.shape.join(', ')}] and [${weight.shape.join(', ')}]`,
    );
    // The leading dimensions of x are the product's rows: [B, L, K] is one [B·L, K] matrix (row-major).
    const lead = x.shape.slice(0, -1);
    const m = sizeOf(lead);
    const n = weight.shape[0]!;
    sameSize(name, n, bias);
    const backend = asWasm(args.backend);
    const y = backend.makeOutput([...lead, n], 'float32');
    const pre = keepPre ? backend.makeOutput([...lead, n], 'float32') : undefined;
    if (m > 0 && n > 0) {
      addon.linearGelu(
        heapOf(backend),
        offsetOf(backend, x),
        k > 0 ? offsetOf(backend, weight) : 0,
        offsetOf(backend, bias),
        pre ? offsetOf(backend, pre) : -1,
        offsetOf(backend, y),
        m,
        n,
        k,
      );
    }
    return pre ? [y, pre] : y;
  };
}

function sumSquaresKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const inputs = Object.values(args.inputs as unknown as Record<string, TensorInfo>);
    float32(K.sumSquares, ...inputs);
    const backend = asWasm(args.backend);
    const offs = Int32Array.from(inputs, (t) => offsetOf(backend, t) / 4);
    const sizes = Int32Array.from(inputs, (t) => sizeOf(t.shape));
    const total = inputs.length ? addon.sumSquares(heapOf(backend), offs, sizes) : 0;
    const out = backend.makeOutput([], 'float32');
    new Float32Array(heapOf(backend), offsetOf(backend, out), 1)[0] = total;
    return out;
  };
}

/** The training-step kernel configs for `backendName`. */
export function trainKernels(addon: NativeAddon, backendName: string): KernelConfig[] {
  const k = (kernelName: FusedKernelName, kernelFunc: KernelFunc): KernelConfig => ({
    kernelName,
    backendName,
    kernelFunc,
  });
  return [
    k(K.dropout, dropoutKernel(addon)),
    k(K.dropoutAddLayerNorm, dropoutAddLayerNormKernel(addon)),
    k(K.dropoutAddLayerNormGrad, dropoutAddLayerNormGradKernel(addon)),
    k(K.attentionSoftmax, attentionSoftmaxKernel(addon)),
    k(K.attentionSoftmaxGrad, attentionSoftmaxGradKernel(addon)),
    k(K.linearGelu, linearGeluKernel(addon, true)),
    k(K.linearGeluInfer, linearGeluKernel(addon, false)),
    k(K.sumSquares, sumSquaresKernel(addon)),
  ];
}
