/**
 * Attention kernels on the projections' own layout (contracts in `@distillery/core/kernels`), registered on the
 * 'native' backend only:
 *
 * - `DistilleryAttention` — `{q, k, v, mask}` → `[ctx, probs]` for inference (no dropout, no gradient): per
 *   (batch, head) strided products and the softmax in one call;
 * - `DistilleryAttentionProbs` / `…Grad` — training's first half, `probs = softmax(scale·q·kᵀ + mask)`, and
 *   `[dq, dk]` from `dprobs`;
 * - `DistilleryAttentionContext` / `…Grad` — training's second half, `ctx = dropout(probs)·v` with heads merged,
 *   and `[dprobs, dv]` from `dctx` (the Philox mask regenerated, never stored).
 *
 * `q` is `[B, Lq, H·dh]`, `k`/`v` `[B, Lk, H·dh]`, `mask` the additive `[B, 1, 1, Lk]`, `probs` `[B, H, Lq, Lk]`.
 * float32 only (other dtypes throw: callers route them to the tfjs ops).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  FUSED_KERNEL_NAMES as K,
  type AttentionAttrs,
  type AttentionContextGradInputs,
  type AttentionContextInputs,
  type AttentionInputs,
  type AttentionProbsGradInputs,
  type AttentionProbsInputs,
  type AttentionTrainAttrs,
  type FusedKernelName,
} from '@distillery/core/kernels';
import type { NativeAddon } from '../addon.js';
import { asWasm, heapOf, offsetOf } from '../heap.js';
import { check, dropoutArgs, float32 } from './checks.js';

/** Batch, query length, key length, heads and head width, checked: `q` [B, Lq, H·dh], `k` (and `v`) [B, Lk, H·dh]. */
interface Dims {
  b: number;
  lq: number;
  lk: number;
  heads: number;
  dh: number;
}

function dimsOf(name: string, q: TensorInfo, k: TensorInfo, numHeads: number, v?: TensorInfo): Dims {
  check(name, q.shape.length === 3, () => `q must be [B, Lq, H·dh], got [${q.shape.join(', ')}]`);
  const [b, lq, d] = q.shape as [number, number, number];
  check(
    name,
    k.shape.length === 3 && k.shape[0] === b && k.shape[2] === d,
    () => `k must be [${b}, Lk, ${d}], got [${k.shape.join(', ')}]`,
  );
  if (v)
    check(
      name,
      v.shape.join() === k.shape.join(),
      () => `v must be shaped like k [${k.shape.join(', ')}], got [${v.shape.join(', ')}]`,
    );
  check(
    name,
    Number.isInteger(numHeads) && numHeads > 0 && d % numHeads === 0,
    () => `numHeads must divide the width ${d}, got ${numHeads}`,
  );
  return { b, lq, lk: k.shape[1]!, heads: numHeads, dh: d / numHeads };
}

function checkMask(name: string, mask: TensorInfo, { b, lk }: Dims): void {
  const m = mask.shape;
  check(
    name,
    m.length === 4 && m[0] === b && m[1] === 1 && m[2] === 1 && m[3] === lk,
    () => `mask must be [${b}, 1, 1, ${lk}], got [${m.join(', ')}]`,
  );
}

function checkProbs(name: string, what: string, t: TensorInfo, { b, heads, lq, lk }: Dims): void {
  const want = [b, heads, lq, lk];
  check(
    name,
    t.shape.join() === want.join(),
    () => `${what} must be [${want.join(', ')}], got [${t.shape.join(', ')}]`,
  );
}

/** The addon's trailing shape arguments. */
const shapeArgs = (s: Dims): [number, number, number, number, number] => [s.b, s.lq, s.lk, s.heads, s.dh];
const nonEmpty = (s: Dims): boolean => s.b * s.lq * s.lk * s.heads * s.dh > 0;
const qShape = (s: Dims) => [s.b, s.lq, s.heads * s.dh];
const probsShape = (s: Dims) => [s.b, s.heads, s.lq, s.lk];

function attentionKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { q, k, v, mask } = args.inputs as unknown as AttentionInputs;
    const { numHeads, scale } = args.attrs as unknown as AttentionAttrs;
    const name = K.attention;
    float32(name, q, k, v, mask);
    const s = dimsOf(name, q, k, numHeads, v);
    checkMask(name, mask, s);
    const backend = asWasm(args.backend);
    const ctx = backend.makeOutput(qShape(s), 'float32');
    const probs = backend.makeOutput(probsShape(s), 'float32');
    if (nonEmpty(s)) {
      const at = (t: TensorInfo) => offsetOf(backend, t);
      addon.multiHeadAttention(
        heapOf(backend),
        at(q),
        at(k),
        at(v),
        at(mask),
        at(probs),
        at(ctx),
        ...shapeArgs(s),
        scale,
      );
    }
    return [ctx, probs];
  };
}

function probsKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { q, k, mask } = args.inputs as unknown as AttentionProbsInputs;
    const { numHeads, scale } = args.attrs as unknown as AttentionTrainAttrs;
    const name = K.attentionProbs;
    float32(name, q, k, mask);
    const s = dimsOf(name, q, k, numHeads);
    checkMask(name, mask, s);
    const backend = asWasm(args.backend);
    const probs = backend.makeOutput(probsShape(s), 'float32');
    const at = (t: TensorInfo) => offsetOf(backend, t);
    if (nonEmpty(s)) addon.attentionProbs(heapOf(backend), at(q), at(k), at(mask), at(probs), ...shapeArgs(s), scale);
    return probs;
  };
}

function probsGradKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { dprobs, probs, q, k } = args.inputs as unknown as AttentionProbsGradInputs;
    const { numHeads, scale } = args.attrs as unknown as AttentionTrainAttrs;
    const name = K.attentionProbsGrad;
    float32(name, dprobs, probs, q, k);
    const s = dimsOf(name, q, k, numHeads);
    checkProbs(name, 'probs', probs, s);
    checkProbs(name, 'dprobs', dprobs, s);
    const backend = asWasm(args.backend);
    const dq = backend.makeOutput(q.shape, 'float32');
    const dk = backend.makeOutput(k.shape, 'float32');
    const at = (t: TensorInfo) => offsetOf(backend, t);
    if (nonEmpty(s))
      addon.attentionProbsGrad(
        heapOf(backend),
        at(dprobs),
        at(probs),
        at(q),
        at(k),
        at(dq),
        at(dk),
        ...shapeArgs(s),
        scale,
      );
    return [dq, dk];
  };
}

/** Dims of the context kernels, from `probs` [B, H, Lq, Lk] and `v` [B, Lk, H·dh]. */
function contextDims(name: string, probs: TensorInfo, v: TensorInfo, numHeads: number): Dims {
  check(name, probs.shape.length === 4, () => `probs must be [B, H, Lq, Lk], got [${probs.shape.join(', ')}]`);
  const [b, heads, lq, lk] = probs.shape as [number, number, number, number];
  check(name, heads === numHeads, () => `probs has ${heads} heads, numHeads is ${numHeads}`);
  check(
    name,
    v.shape.length === 3 && v.shape[0] === b && v.shape[1] === lk && v.shape[2]! % heads === 0,
    () => `v must be [${b}, ${lk}, H·dh] with H = ${heads}, got [${v.shape.join(', ')}]`,
  );
  return { b, lq, lk, heads, dh: v.shape[2]! / heads };
}

function contextKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { probs, v } = args.inputs as unknown as AttentionContextInputs;
    const attrs = args.attrs as unknown as AttentionTrainAttrs;
    const name = K.attentionContext;
    const d = dropoutArgs(name, attrs);
    float32(name, probs, v);
    const s = contextDims(name, probs, v, attrs.numHeads);
    const backend = asWasm(args.backend);
    const ctx = backend.makeOutput(qShape(s), 'float32');
    const at = (t: TensorInfo) => offsetOf(backend, t);
    if (nonEmpty(s)) addon.attentionContext(heapOf(backend), at(probs), at(v), at(ctx), ...shapeArgs(s), ...d);
    return ctx;
  };
}

function contextGradKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { dctx, probs, v } = args.inputs as unknown as AttentionContextGradInputs;
    const attrs = args.attrs as unknown as AttentionTrainAttrs;
    const name = K.attentionContextGrad;
    const d = dropoutArgs(name, attrs);
    float32(name, dctx, probs, v);
    const s = contextDims(name, probs, v, attrs.numHeads);
    const want = qShape(s);
    check(
      name,
      dctx.shape.join() === want.join(),
      () => `dctx must be [${want.join(', ')}], got [${dctx.shape.join(', ')}]`,
    );
    const backend = asWasm(args.backend);
    const dprobs = backend.makeOutput(probs.shape, 'float32');
    const dv = backend.makeOutput(v.shape, 'float32');
    const at = (t: TensorInfo) => offsetOf(backend, t);
    if (nonEmpty(s))
      addon.attentionContextGrad(
        heapOf(backend),
        at(dctx),
        at(probs),
        at(v),
        at(dprobs),
        at(dv),
        ...shapeArgs(s),
        ...d,
      );
    return [dprobs, dv];
  };
}

/** The attention kernel configs for `backendName`. */
export function attentionKernels(addon: NativeAddon, backendName: string): KernelConfig[] {
  const k = (kernelName: FusedKernelName, kernelFunc: KernelFunc): KernelConfig => ({
    kernelName,
    backendName,
    kernelFunc,
  });
  return [
    k(K.attention, attentionKernel(addon)),
    k(K.attentionProbs, probsKernel(addon)),
    k(K.attentionProbsGrad, probsGradKernel(addon)),
    k(K.attentionContext, contextKernel(addon)),
    k(K.attentionContextGrad, contextGradKernel(addon)),
  ];
}
