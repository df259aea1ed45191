/**
 * Fused training kernels that tfjs has no counterpart for, registered on the 'native' backend only (callers
 * check `getKernel(name, getBackend())` and keep their tfjs-ops path elsewhere):
 *
 * - `DistilleryAdamW` — inputs `{p, g, m, v}`, attrs {@link AdamAttrs}; outputs `[p', m', v']` (new tensors:
 *   the caller `assign`s them, so no buffer another tensor may share is ever written in place);
 * - `DistilleryAdamWInPlace` — `[p0, g0, m0, v0, p1, …]`: every parameter's step in one call, p/m/v rewritten in
 *   their own buffers (refused for a buffer another tensor shares); outputs the number of parameters updated;
 * - `DistilleryLayerNorm` — `{x, gamma, beta}`, attr `epsilon`; LayerNorm over the last axis (biased variance):
 *   outputs `[y, mean, rstd]` (`mean`/`rstd` of shape `[rows]`, for the gradient);
 * - `DistilleryLayerNormGrad` — `{dy, x, gamma, mean, rstd}`; outputs `[dx, dgamma, dbeta]`;
 * - `DistilleryGelu` — `{x}`; exact GELU `x/2·(1 + erf(x/√2))`;
 * - `DistilleryGeluGrad` — `{dy, x}`; `dy · GELU'(x)`.
 *
 * All are float32 only (other dtypes throw: callers route them to the tfjs ops).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  FUSED_KERNEL_NAMES,
  type AdamWAttrs,
  type AdamWInPlaceAttrs,
  type AdamWInputs,
  type FusedKernelName,
  type GeluGradInputs,
  type GeluInputs,
  type LayerNormAttrs,
  type LayerNormGradInputs,
  type LayerNormInputs,
} from '@distillery/core/kernels';
import type { NativeAddon } from '../addon.js';
import { asWasm, heapOf, offsetOf, sizeOf } from '../heap.js';
import { check, float32, rowsCols, sameSize } from './checks.js';

/**
 * Names of the fused kernels: the contracts of `@distillery/core/kernels` (the callers in core and models
 * import the same module, so names, inputs and attributes cannot drift apart).
 */
export const FUSED_KERNELS = FUSED_KERNEL_NAMES;

/** Scalars of one Adam/AdamW step (see {@link AdamWAttrs} in `@distillery/core/kernels`). */
export type AdamAttrs = AdamWAttrs;

function adamKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { p, g, m, v } = args.inputs as unknown as AdamWInputs;
    const a = args.attrs as unknown as AdamWAttrs;
    float32(FUSED_KERNELS.adamW, p, g, m, v);
    const n = sizeOf(p.shape);
    sameSize(FUSED_KERNELS.adamW, n, g, m, v);
    const backend = asWasm(args.backend);
    const outs = [p, m, v].map((t) => backend.makeOutput(t.shape, 'float32'));
    if (n === 0) return outs;
    const [po, mo, vo] = outs as [TensorInfo, TensorInfo, TensorInfo];
    addon.adam(
      heapOf(backend),
      offsetOf(backend, p),
      offsetOf(backend, g),
      offsetOf(backend, m),
      offsetOf(backend, v),
      offsetOf(backend, po),
      offsetOf(backend, mo),
      offsetOf(backend, vo),
      n,
      a.beta1,
      a.beta2,
      a.eps,
      1 - a.beta1,
      1 - a.beta2,
      a.l2,
      a.decay,
      a.stepSize,
      a.sqrtBc2,
    );
    return outs;
  };
}

/**
 * `DistilleryAdamWInPlace`: inputs `[p0, g0, m0, v0, p1, …]`; p, m and v are rewritten in their own buffers. Refuses
 * (throws) a p, m or v whose buffer another tensor shares (tfjs tensors are immutable: writing it would change that
 * tensor too) or one that appears twice.
 */
function adamInPlaceKernel(addon: NativeAddon): KernelFunc {
  const name = FUSED_KERNELS.adamWInPlace;
  return (args) => {
    const inputs = Object.values(args.inputs as unknown as Record<string, TensorInfo>);
    const a = args.attrs as unknown as AdamWInPlaceAttrs;
    const n = inputs.length / 4;
    check(name, Number.isInteger(n), () => `inputs come in fours (p, g, m, v), got ${inputs.length}`);
    for (const [key, arr] of [
      ['l2', a.l2],
      ['decay', a.decay],
      ['stepSize', a.stepSize],
    ] as const)
      check(name, Array.isArray(arr) && arr.length === n, () => `attr ${key} needs ${n} values (one per parameter)`);
    float32(name, ...inputs);
    const backend = asWasm(args.backend);
    const written = new Set<object>();
    const regions = new Int32Array(4 * n);
    const sizes = new Int32Array(n);
    const scalars = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) {
      const [p, g, m, v] = inputs.slice(4 * i, 4 * i + 4) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo];
      const size = sizeOf(p.shape);
      sameSize(name, size, g, m, v);
      for (const [role, t] of [
        ['p', p],
        ['m', m],
        ['v', v],
      ] as const) {
        check(
          name,
          backend.refCount(t.dataId) === 1 && !written.has(t.dataId),
          () => `parameter ${i}'s ${role} shares its buffer with another tensor; it cannot be updated in place`,
        );
        written.add(t.dataId);
      }
      [p, g, m, v].forEach((t, k) => (regions[4 * i + k] = offsetOf(backend, t) / 4));
      sizes[i] = size;
      scalars.set([a.l2[i]!, a.decay[i]!, a.stepSize[i]!], 3 * i);
    }
    for (let i = 0; i < n; i++)
      check(name, !written.has(inputs[4 * i + 1]!.dataId), () => `parameter ${i}'s g is also written (p, m or v)`);
    if (n > 0) {
      addon.adamInPlace(
        heapOf(backend),
        regions,
        sizes,
        scalars,
        a.beta1,
        a.beta2,
        a.eps,
        1 - a.beta1,
        1 - a.beta2,
        a.sqrtBc2,
      );
    }
    const out = backend.makeOutput([], 'float32');
    new Float32Array(heapOf(backend), offsetOf(backend, out), 1)[0] = n;
    return out;
  };
}

function layerNormKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { x, gamma, beta } = args.inputs as unknown as LayerNormInputs;
    const eps = (args.attrs as unknown as LayerNormAttrs).epsilon;
    float32(FUSED_KERNELS.layerNorm, x, gamma, beta);
    const { rows, cols } = rowsCols(x);
    sameSize(FUSED_KERNELS.layerNorm, cols, gamma, beta);
    const backend = asWasm(args.backend);
    const y = backend.makeOutput(x.shape, 'float32');
    const mean = backend.makeOutput([rows], 'float32');
    const rstd = backend.makeOutput([rows], 'float32');
    if (rows > 0) {
      addon.layerNorm(
        heapOf(backend),
        offsetOf(backend, x),
        offsetOf(backend, gamma),
        offsetOf(backend, beta),
        offsetOf(backend, y),
        offsetOf(backend, mean),
        offsetOf(backend, rstd),
        rows,
        cols,
        eps,
      );
    }
    return [y, mean, rstd];
  };
}

function layerNormGradKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { dy, x, gamma, mean, rstd } = args.inputs as unknown as LayerNormGradInputs;
    const name = FUSED_KERNELS.layerNormGrad;
    float32(name, dy, x, gamma, mean, rstd);
    const { rows, cols } = rowsCols(x);
    sameSize(name, rows * cols, dy);
    sameSize(name, cols, gamma);
    sameSize(name, rows, mean, rstd);
    const backend = asWasm(args.backend);
    const dx = backend.makeOutput(x.shape, 'float32');
    const dgamma = backend.makeOutput(gamma.shape, 'float32');
    const dbeta = backend.makeOutput(gamma.shape, 'float32');
    if (rows > 0) {
      addon.layerNormGrad(
        heapOf(backend),
        offsetOf(backend, dy),
        offsetOf(backend, x),
        offsetOf(backend, gamma),
        offsetOf(backend, mean),
        offsetOf(backend, rstd),
        offsetOf(backend, dx),
        offsetOf(backend, dgamma),
        offsetOf(backend, dbeta),
        rows,
        cols,
      );
    } else if (cols > 0) {
      // No rows: the parameter gradients are zero (wasm's malloc does not clear memory).
      new Float32Array(heapOf(backend), offsetOf(backend, dgamma), cols).fill(0);
      new Float32Array(heapOf(backend), offsetOf(backend, dbeta), cols).fill(0);
    }
    return [dx, dgamma, dbeta];
  };
}

function geluKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { x } = args.inputs as unknown as GeluInputs;
    float32(FUSED_KERNELS.gelu, x);
    const backend = asWasm(args.backend);
    const y = backend.makeOutput(x.shape, 'float32');
    const n = sizeOf(x.shape);
    if (n > 0) addon.gelu(heapOf(backend), offsetOf(backend, x), offsetOf(backend, y), n);
    return y;
  };
}

function geluGradKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { dy, x } = args.inputs as unknown as GeluGradInputs;
    float32(FUSED_KERNELS.geluGrad, dy, x);
    const n = sizeOf(x.shape);
    sameSize(FUSED_KERNELS.geluGrad, n, dy);
    const backend = asWasm(args.backend);
    const dx = backend.makeOutput(x.shape, 'float32');
    if (n > 0) addon.geluGrad(heapOf(backend), offsetOf(backend, dy), offsetOf(backend, x), offsetOf(backend, dx), n);
    return dx;
  };
}

/** The fused kernel configs for `backendName`. */
export function fusedKernels(addon: NativeAddon, backendName: string): KernelConfig[] {
  const k = (kernelName: FusedKernelName, kernelFunc: KernelFunc): KernelConfig => ({
    kernelName,
    backendName,
    kernelFunc,
  });
  return [
    k(FUSED_KERNELS.adamW, adamKernel(addon)),
    k(FUSED_KERNELS.adamWInPlace, adamInPlaceKernel(addon)),
    k(FUSED_KERNELS.layerNorm, layerNormKernel(addon)),
    k(FUSED_KERNELS.layerNormGrad, layerNormGradKernel(addon)),
    k(FUSED_KERNELS.gelu, geluKernel(addon)),
    k(FUSED_KERNELS.geluGrad, geluGradKernel(addon)),
  ];
}
