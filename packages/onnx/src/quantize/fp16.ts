/**
 * float16 weights: every float32 initializer is stored as float16 and cast back to float32 by a Cast
 * node, so the file is about half the size while inputs, outputs and the arithmetic stay float32
 * (ORT folds the casts at load; CPU builds have few float16 kernels, so a full-fp16 graph would not run there).
 * @packageDocumentation
 */
import { DistilleryError } from '@distillery/core';
import { DT, makeTensor, tensorDims, tensorFloats, type ModelProto, type NodeProto } from '../proto.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE float32 → float16 bits, round to nearest even; overflow → ±Inf, NaN kept. */
export function toHalfBits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflow to ±0
    mant |= 0x800000; // subnormal half: shift the implicit bit in
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** float16 bits → number. */
export function fromHalfBits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Store the float32 initializers of the model (in place) as float16 behind Cast nodes; returns how many. */
export function convertFp16(model: ModelProto, where = 'model.onnx'): number {
  const g = model.graph!;
  const casts: NodeProto[] = [];
  let count = 0;
  g.initializer = (g.initializer ?? []).map((t) => {
    if (t.dataType !== DT.FLOAT) return t;
    const src = tensorFloats(t);
    // Scalars and tiny vectors gain nothing and some (the -10000 mask constant) must stay exact.
    if (src.length < 16) return t;
    const half = new Uint16Array(src.length);
    for (let i = 0; i < src.length; i++) half[i] = toHalfBits(src[i]!);
    count++;
    casts.push({
      opType: 'Cast',
      name: `${t.name}/CastFp32`,
      input: [`${t.name}_fp16`],
      output: [t.name!],
      attribute: [{ name: 'to', type: 2, i: DT.FLOAT }],
    });
    return makeTensor(`${t.name}_fp16`, DT.FLOAT16, tensorDims(t), half);
  });
  if (!count)
    throw new DistilleryError('QUANTIZE_NOTHING', 'the graph has no float32 weights to store as float16', { where });
  g.node = [...casts, ...(g.node ?? [])];
  return count;
}
