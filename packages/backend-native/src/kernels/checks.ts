/** Argument checks shared by the fused kernels: each failure names the kernel and what it needed. */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { DropoutAttrs } from '@distillery/core/kernels';
import { sizeOf } from '../heap.js';

/** Throws `${name}: ${what()}` unless ok. */
export function check(name: string, ok: boolean, what: () => string): void {
  if (!ok) throw new Error(`${name}: ${what()}`);
}

export function float32(name: string, ...ts: TensorInfo[]): void {
  for (const t of ts) check(name, t.dtype === 'float32', () => `float32 inputs only, got ${t.dtype}`);
}

export function sameSize(name: string, n: number, ...ts: TensorInfo[]): void {
  for (const t of ts)
    check(name, sizeOf(t.shape) === n, () => `shape [${t.shape.join(', ')}] does not match size ${n}`);
}

/** The dropout attrs in the addon's argument order, checked (rate in [0, 1), 32-bit seed and stream). */
export function dropoutArgs(name: string, a: DropoutAttrs): [number, number, number, number] {
  const { rate, seed, stream, counter } = a;
  check(name, rate >= 0 && rate < 1, () => `rate must be in [0, 1), got ${rate}`);
  const u32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  check(
    name,
    u32(seed) && u32(stream),
    () => `seed and stream must be 32-bit unsigned integers, got ${seed}, ${stream}`,
  );
  check(
    name,
    Number.isSafeInteger(counter) && counter >= 0,
    () => `counter must be a non-negative safe integer, got ${counter}`,
  );
  return [rate, seed, stream, counter];
}

/** [rows, cols] view of x (rows over all but the last axis). */
export function rowsCols(x: TensorInfo): { rows: number; cols: number } {
  const cols = x.shape.length ? x.shape[x.shape.length - 1]! : 1;
  return { rows: cols === 0 ? 0 : sizeOf(x.shape) / cols, cols };
}
