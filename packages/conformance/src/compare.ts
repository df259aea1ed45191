/**
 * Tolerant comparison of a handler's result with a case's expected value.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { isEncodedTensor } from './cases.js';

/** Tolerances of {@link compareValues}. */
export interface Tolerance {
  /** Relative tolerance (default 1e-5). */
  readonly rtol: number;
  /** Floor of the scale the relative tolerance applies to (default 1e-6). */
  readonly floor: number;
}

/** The default: `|got − exp| ≤ 1e-5 · max(|exp|, 1e-6)`. */
export const DEFAULT_TOLERANCE: Tolerance = { rtol: 1e-5, floor: 1e-6 };

/** A tensor result as plain data: `{shape, data}`. */
export interface PlainTensor {
  readonly shape: number[];
  readonly data: number[];
}

/**
 * Turns a handler result into plain JSON-like data: tensors become `{shape, data}` (read
 * synchronously), arrays and objects are walked. Numbers, strings, booleans, null pass through.
 */
export function toPlain(x: unknown): unknown {
  if (x instanceof tf.Tensor)
    return { shape: [...(x.shape as number[])], data: Array.from(x.dataSync() as ArrayLike<number>, Number) };
  if (Array.isArray(x)) return x.map(toPlain);
  if (x !== null && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([k, v]) => [k, toPlain(v)]));
  }
  return x;
}

function numClose(got: number, exp: number, tol: Tolerance): boolean {
  if (Number.isNaN(got) || Number.isNaN(exp)) return false; // NaN never passes
  if (!Number.isFinite(exp)) return got === exp;
  return Math.abs(got - exp) <= tol.rtol * Math.max(Math.abs(exp), tol.floor);
}

/**
 * Compares plain `got` (see {@link toPlain}) with `expected` from a case file. Returns `undefined`
 * when they match, else a message naming the first difference (with its path).
 *
 * Rules: numbers match within `rtol · max(|exp|, floor)` (NaN never matches); an expected tensor
 * `{shape, dtype, data}` needs a tensor (or a size-1 number for a scalar) of the same shape, element
 * by element; a number matches a tensor of size 1; arrays need the same length; objects need the
 * same keys; anything else must be strictly equal.
 */
export function compareValues(
  got: unknown,
  expected: unknown,
  tol: Tolerance = DEFAULT_TOLERANCE,
  path = '$',
): string | undefined {
  if (isEncodedTensor(expected)) {
    const g = asPlainTensor(got);
    if (!g) return `${path}: expected a tensor of shape [${expected.shape.join(', ')}], got ${describe(got)}`;
    if (g.shape.length !== expected.shape.length || g.shape.some((d, i) => d !== expected.shape[i])) {
      return `${path}: shape [${g.shape.join(', ')}] differs from expected [${expected.shape.join(', ')}]`;
    }
    for (let i = 0; i < expected.data.length; i++) {
      if (!numClose(g.data[i]!, expected.data[i]!, tol)) {
        return `${path}: element ${i} is ${g.data[i]}, expected ${expected.data[i]} (|diff| ${Math.abs(g.data[i]! - expected.data[i]!).toExponential(2)})`;
      }
    }
    return undefined;
  }
  if (typeof expected === 'number') {
    const g =
      typeof got === 'number' ? got : asPlainTensor(got)?.data.length === 1 ? asPlainTensor(got)!.data[0] : undefined;
    if (g === undefined) return `${path}: expected the number ${expected}, got ${describe(got)}`;
    return numClose(g, expected, tol)
      ? undefined
      : `${path}: got ${g}, expected ${expected} (|diff| ${Math.abs(g - expected).toExponential(2)}, allowed ${(tol.rtol * Math.max(Math.abs(expected), tol.floor)).toExponential(2)})`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(got)) return `${path}: expected a list of ${expected.length}, got ${describe(got)}`;
    if (got.length !== expected.length) return `${path}: list has ${got.length} entries, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const m = compareValues(got[i], expected[i], tol, `${path}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (got === null || typeof got !== 'object' || Array.isArray(got))
      return `${path}: expected an object, got ${describe(got)}`;
    const ek = Object.keys(expected).sort();
    const gk = Object.keys(got).sort();
    const missing = ek.filter((k) => !gk.includes(k));
    const extra = gk.filter((k) => !ek.includes(k));
    if (missing.length || extra.length) {
      return `${path}: keys differ${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; unexpected ${extra.join(', ')}` : ''}`;
    }
    for (const k of ek) {
      const m = compareValues(
        (got as Record<string, unknown>)[k],
        (expected as Record<string, unknown>)[k],
        tol,
        `${path}.${k}`,
      );
      if (m) return m;
    }
    return undefined;
  }
  return got === expected ? undefined : `${path}: got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`;
}

function asPlainTensor(x: unknown): PlainTensor | undefined {
  if (
    x !== null &&
    typeof x === 'object' &&
    Array.isArray((x as PlainTensor).shape) &&
    Array.isArray((x as PlainTensor).data)
  )
    return x as PlainTensor;
  if (typeof x === 'number') return { shape: [], data: [x] };
  return undefined;
}

function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (Array.isArray(x)) return `a list of ${x.length}`;
  if (asPlainTensor(x) && typeof x === 'object') return `a tensor of shape [${(x as PlainTensor).shape.join(', ')}]`;
  return JSON.stringify(x);
}
