/**
 * The reference-case file format (`textbrewer-losses.json`) and its decoding into tfjs values.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';

/** A tensor as written in case files: row-major `data`, dtype `float` or `int64`. */
export interface EncodedTensor {
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly data: readonly number[];
}

/** One reference case. Dispatch is on `fn`, never on `name`. */
export interface ConformanceCase {
  readonly name: string;
  readonly fn: string;
  readonly description?: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly expected: unknown;
  /** The same computation in float32; compared first when present. */
  readonly expected_f32?: unknown;
}

/** A case file. */
export interface CaseFile {
  readonly format_version?: number;
  readonly generator?: string;
  readonly cases: readonly ConformanceCase[];
}

/** Whether `x` is an encoded tensor `{shape, dtype, data}`. */
export function isEncodedTensor(x: unknown): x is EncodedTensor {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
  const o = x as Record<string, unknown>;
  return Array.isArray(o.shape) && Array.isArray(o.data) && typeof o.dtype === 'string';
}

/** An encoded tensor as a tfjs tensor: `float*` → float32, `int*` → int32 (int64 values fit), `bool` → bool. */
export function decodeTensor(t: EncodedTensor): tf.Tensor {
  const dtype =
    t.dtype.startsWith('int') || t.dtype.startsWith('uint') ? 'int32' : t.dtype === 'bool' ? 'bool' : 'float32';
  return tf.tensor(t.data, t.shape as number[], dtype);
}

/**
 * Decodes case arguments recursively: encoded tensors become tensors, arrays and plain objects
 * are walked, numbers/strings/booleans stay as they are (a 0-d tensor is a plain number).
 * The tensors are created in the caller's tf scope.
 */
export function decodeValue(x: unknown): unknown {
  if (isEncodedTensor(x)) return decodeTensor(x);
  if (Array.isArray(x)) return x.map(decodeValue);
  if (x !== null && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([k, v]) => [k, decodeValue(v)]));
  }
  return x;
}

/** Reads and checks a case file (a path), or checks an already-parsed object. */
export function loadCases(source: string | CaseFile): CaseFile {
  let obj: unknown = source;
  if (typeof source === 'string') {
    try {
      obj = JSON.parse(readFileSync(source, 'utf8'));
    } catch (e) {
      throw new DistilleryError('CASES_INVALID', `cannot read case file: ${(e as Error).message}`, {
        where: source,
        cause: e,
      });
    }
  }
  const cases = (obj as { cases?: unknown })?.cases;
  if (!Array.isArray(cases)) {
    throw new DistilleryError('CASES_INVALID', 'a case file must be an object with a "cases" array', {
      where: typeof source === 'string' ? source : 'cases',
      hint: '{ "format_version": 1, "cases": [ { "name", "fn", "args", "expected" }, ... ] }',
    });
  }
  cases.forEach((c: unknown, i: number) => {
    const o = c as Partial<ConformanceCase> | null;
    if (
      !o ||
      typeof o.name !== 'string' ||
      typeof o.fn !== 'string' ||
      typeof o.args !== 'object' ||
      !('expected' in o)
    ) {
      throw new DistilleryError('CASES_INVALID', `case ${i} needs "name", "fn", "args" and "expected"`, {
        where: typeof source === 'string' ? `${source}: cases[${i}]` : `cases[${i}]`,
      });
    }
  });
  return obj as CaseFile;
}
