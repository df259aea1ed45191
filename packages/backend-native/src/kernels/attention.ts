/**
 * Attention kernels on the projections' own layout (contracts in `@distillery/core/kernels`), registered on the
 * 'native' backend only:
 *
 * - `DistilleryAttentionPacked` — `{qkv, mask}` → `[ctx, probs]`: self-attention on a packed `[q | k | v]`
 *   projection `[B, L, 3·H·dh]` (q, k, v read in place at stride 3·H·dh), `probs = softmax(scale·q·kᵀ + mask)`,
 *   `ctx = dropout(probs)·v` with heads merged (rate 0: none, as in inference), per (batch, head) pair in one pass;
 * - `DistilleryAttentionPackedGrad` — `{dctx, dprobs?, probs, qkv}` → `[dqkv]`: both halves of the gradient per
 *   pair (the Philox mask regenerated, never stored), written in the layout of `qkv`.
 *
 * `mask` is the additive `[B, 1, 1, L]`, `probs` `[B, H, L, L]`. float32 only (other dtypes throw: callers route
 * them to the tfjs ops).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  FUSED_KERNEL_NAMES as K,
  type AttentionPackedGradInputs,
  type AttentionPackedInputs,
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

const nonEmpty = (s: Dims): boolean => s.b * s.lq * s.lk * s.heads * s.dh > 0;
const qShape = (s: Dims) => [s.b, s.lq, s.heads * s.dh];
const probsShape = (s: Dims) => [s.b, s.heads, s.lq, s.lk];

/** Dims of the packed kernels from `qkv` [B, L, 3·H·dh] (self-attention: Lq = Lk = L). */
function packedDims(name: string, qkv: TensorInfo, numHeads: number): Dims {
  const [b, l, w] = qkv.shape as [number, number, number];
  check(
    name,
    qkv.shape.length === 3 && w % 3 === 0,
    () =>
      `qkv must be [B, L, 3·H·dh] (the query, key and value projections side by side), got [${qkv.shape.join(', ')}]`,
  );
  check(
    name,
    Number.isInteger(numHeads) && numHeads > 0 && (w / 3) % numHeads === 0,
    () => `numHeads must divide the width ${w / 3} of each third of qkv, got ${numHeads}`,
  );
  return { b, lq: l, lk: l, heads: numHeads, dh: w / 3 / numHeads };
}

/** The packed kernels' shape arguments: batch, length, heads, head width. */
const packedArgs = (s: Dims): [number, number, number, number] => [s.b, s.lq, s.heads, s.dh];

function packedKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { qkv, mask } = args.inputs as unknown as AttentionPackedInputs;
    const attrs = args.attrs as unknown as AttentionTrainAttrs;
    const name = K.attentionPacked;
    const d = dropoutArgs(name, attrs);
    float32(name, qkv, mask);
    const s = packedDims(name, qkv, attrs.numHeads);
    checkMask(name, mask, s);
    const backend = asWasm(args.backend);
    const ctx = backend.makeOutput(qShape(s), 'float32');
    const probs = backend.makeOutput(probsShape(s), 'float32');
    const at = (t: TensorInfo) => offsetOf(backend, t);
    if (nonEmpty(s))
      addon.attentionPacked(
        heapOf(backend),
        at(qkv),
        at(mask),
        at(probs),
        at(ctx),
        ...packedArgs(s),
        attrs.scale,
        ...d,
      );
    return [ctx, probs];
  };
}

function packedGradKernel(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { dctx, dprobs, probs, qkv } = args.inputs as unknown as AttentionPackedGradInputs;
    const attrs = args.attrs as unknown as AttentionTrainAttrs;
    const name = K.attentionPackedGrad;
    const d = dropoutArgs(name, attrs);
    float32(name, dctx, probs, qkv, ...(dprobs ? [dprobs] : []));
    const s = packedDims(name, qkv, attrs.numHeads);
    checkProbs(name, 'probs', probs, s);
    if (dprobs) checkProbs(name, 'dprobs', dprobs, s);
    const want = qShape(s);
    check(
      name,
      dctx.shape.join() === want.join(),
      () => `dctx must be [${want.join(', ')}], got [${dctx.shape.join(', ')}]`,
    );
    const backend = asWasm(args.backend);
    const dqkv = backend.makeOutput(qkv.shape, 'float32');
    const at = (t: TensorInfo) => offsetOf(backend, t);
    if (nonEmpty(s))
      addon.attentionPackedGrad(
        heapOf(backend),
        at(dctx),
        dprobs ? at(dprobs) : -1,
        at(probs),
        at(qkv),
        at(dqkv),
        ...packedArgs(s),
        attrs.scale,
        ...d,
      );
    return dqkv;
  };
}

/** The attention kernel configs for `backendName`. */
export function attentionKernels(addon: NativeAddon, backendName: string): KernelConfig[] {
  const k = (kernelName: FusedKernelName, kernelFunc: KernelFunc): KernelConfig => ({
    kernelName,
    backendName,
    kernelFunc,
  });
  return [k(K.attentionPacked, packedKernel(addon)), k(K.attentionPackedGrad, packedGradKernel(addon))];
}
