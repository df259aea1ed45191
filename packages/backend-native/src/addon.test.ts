/**
 * The addon's N-API contract: op codes come from the addon, and every entry point rejects a wrong call (count,
 * types, ranges, regions outside the heap) with a JS error instead of touching memory.
 */
import { describe, expect, it } from 'vitest';
import { loadAddon, type NativeAddon } from './addon.js';
import { BINARY_OPS, UNARY_OPS } from './kernels/elementwise.js';
import { nativeReady } from './testing/compare.js';

const ready = nativeReady();

describe.skipIf(!ready)('native addon N-API contract', () => {
  const addon = loadAddon() as NativeAddon;
  const heap = new ArrayBuffer(1024); // 256 floats
  const f32 = new Float32Array(heap);

  it('exports its op codes; every op the kernels use is among them', () => {
    expect(Object.isFrozen(addon.ops)).toBe(true);
    for (const op of Object.values(BINARY_OPS)) expect(typeof addon.ops.binary[op]).toBe('number');
    for (const op of Object.values(UNARY_OPS)) expect(typeof addon.ops.unary[op]).toBe('number');
    expect(addon.ops.activation.linear).toBe(0);
    expect(new Set(Object.values(addon.ops.unary)).size).toBe(Object.keys(addon.ops.unary).length);
  });

  it('a correct call works', () => {
    f32.set([1, 2, 3, 4], 0);
    f32.set([10, 20, 30, 40], 4);
    addon.binary(
      heap,
      addon.ops.binary.add,
      0,
      16,
      32,
      Int32Array.from([4]),
      Int32Array.from([1]),
      Int32Array.from([1]),
    );
    expect(Array.from(f32.subarray(8, 12))).toEqual([11, 22, 33, 44]);
    addon.unary(heap, addon.ops.unary.neg, 0, 48, 4);
    expect(Array.from(f32.subarray(12, 16))).toEqual([-1, -2, -3, -4]);
  });

  it('wrong argument counts throw a TypeError naming the function', () => {
    const calls: [string, () => unknown][] = [
      ['gemm', () => (addon.gemm as unknown as (...a: unknown[]) => void)(heap, 0, 0)],
      ['binary', () => (addon.binary as unknown as (...a: unknown[]) => void)(heap)],
      ['unary', () => (addon.unary as unknown as (...a: unknown[]) => void)()],
      ['adam', () => (addon.adam as unknown as (...a: unknown[]) => void)(heap, 0, 0, 0, 0, 0, 0, 0, 4)],
      ['adamInPlace', () => (addon.adamInPlace as unknown as (...a: unknown[]) => void)(heap, Int32Array.from([0]))],
      [
        'layerNorm',
        () => (addon.layerNorm as unknown as (...a: unknown[]) => void)(heap, 0, 0, 0, 0, 0, 0, 1, 1, 1e-5, 'extra'),
      ],
      ['setThreads', () => (addon.setThreads as unknown as (...a: unknown[]) => void)()],
    ];
    for (const [name, call] of calls)
      expect(call, name).toThrow(new RegExp(`distillery_native\\.${name}: expects \\d+ arguments, got \\d+`));
    for (const [, call] of calls) expect(call).toThrow(TypeError);
  });

  it('wrong types throw a TypeError', () => {
    const u = addon.unary as unknown as (...a: unknown[]) => void;
    expect(() => u(new Float32Array(4), addon.ops.unary.neg, 0, 16, 4)).toThrow(/argument 0 must be an ArrayBuffer/);
    expect(() => u(heap, 'neg', 0, 16, 4)).toThrow(/argument 1 must be a number/);
    expect(() => u(heap, addon.ops.unary.neg, 0, 16, '4')).toThrow(TypeError);
    const b = addon.binary as unknown as (...a: unknown[]) => void;
    expect(() => b(heap, 0, 0, 16, 32, [4], Int32Array.from([1]), Int32Array.from([1]))).toThrow(
      /argument 5 must be an Int32Array/,
    );
    const g = addon.gemm as unknown as (...a: unknown[]) => void;
    expect(() =>
      g(heap, 0, 64, 128, 1, 2, 2, 2, 'no', false, Int32Array.from([0]), Int32Array.from([0]), -1, 0, 0, 0),
    ).toThrow(/argument 8 must be a boolean/);
  });

  it('out-of-range values and regions outside the heap throw a RangeError before any memory is touched', () => {
    const before = Float32Array.from(f32);
    const cases: [string, () => unknown, RegExp][] = [
      ['unknown unary op', () => addon.unary(heap, 99, 0, 16, 4), /argument 1 must be an integer in \[0, 12\], got 99/],
      [
        'unknown binary op',
        () => addon.binary(heap, -1, 0, 16, 32, Int32Array.from([4]), Int32Array.from([1]), Int32Array.from([1])),
        /argument 1/,
      ],
      [
        'output past the heap',
        () => addon.unary(heap, addon.ops.unary.neg, 0, 1020, 4),
        /argument 3: 4 elements at byte 1020 run past the heap \(1024 bytes\)/,
      ],
      ['input past the heap', () => addon.softmax(heap, 0, 0, 300, 1), /run past the heap/],
      ['misaligned offset', () => addon.gelu(heap, 2, 16, 4), /4-byte aligned/],
      ['negative offset', () => addon.geluGrad(heap, -4, 0, 16, 4), /4-byte aligned non-negative/],
      ['negative size', () => addon.reduceSum(heap, 0, 16, -1, 2, 2, 1), /non-negative integer/],
      ['fractional size', () => addon.layerNorm(heap, 0, 0, 0, 0, 0, 0, 1.5, 2, 1e-5), /non-negative integer/],
      [
        'huge size',
        () => addon.adam(heap, 0, 0, 0, 0, 0, 0, 0, 1e9, 0.9, 0.999, 1e-8, 0.1, 0.001, 0, 1, 0.1, 1),
        /run past the heap/,
      ],
      [
        'strided input past the heap',
        () =>
          addon.binary(heap, 0, 0, 0, 0, Int32Array.from([2, 4]), Int32Array.from([300, 1]), Int32Array.from([0, 1])),
        /argument 2: .* run past the heap/,
      ],
      [
        'short stride array',
        () => addon.transpose(heap, 0, 64, Int32Array.from([2, 2]), Int32Array.from([1])),
        /argument 4 has 1 elements, needs 2/,
      ],
      [
        'gemm matrix index past the heap',
        () =>
          addon.gemm(
            heap,
            0,
            64,
            128,
            1,
            4,
            4,
            4,
            false,
            false,
            Int32Array.from([100]),
            Int32Array.from([0]),
            -1,
            0,
            0,
            0,
          ),
        /argument 1: .* run past the heap/,
      ],
      [
        'gemm short index array',
        () =>
          addon.gemm(
            heap,
            0,
            64,
            128,
            2,
            2,
            2,
            2,
            false,
            false,
            Int32Array.from([0]),
            Int32Array.from([0, 0]),
            -1,
            0,
            0,
            0,
          ),
        /argument 10 has 1 elements, needs 2/,
      ],
      [
        'gemm bias size',
        () =>
          addon.gemm(
            heap,
            0,
            64,
            128,
            1,
            2,
            2,
            2,
            false,
            false,
            Int32Array.from([0]),
            Int32Array.from([0]),
            192,
            3,
            0,
            0,
          ),
        /biasSize must be 1 or n/,
      ],
      [
        'gemm activation',
        () =>
          addon.gemm(
            heap,
            0,
            64,
            128,
            1,
            2,
            2,
            2,
            false,
            false,
            Int32Array.from([0]),
            Int32Array.from([0]),
            -1,
            0,
            9,
            0,
          ),
        /argument 14 must be an integer in \[0, 5\]/,
      ],
      [
        'gather indices past the heap',
        () => addon.gather(heap, 0, 1000, 16, 1, 2, 8, 1),
        /argument 2: 8 elements at byte 1000/,
      ],
      ['segment ids past the heap', () => addon.segmentSum(heap, 0, 1016, 16, 4, 1, 2), /argument 2: 4 elements/],
      [
        'layerNormGrad rows past the heap',
        () => addon.layerNormGrad(heap, 0, 0, 0, 0, 0, 0, 0, 0, 100, 4),
        /run past the heap/,
      ],
      [
        'packed attention qkv past the heap',
        () => addon.attentionPacked(heap, 0, -1, 0, 0, 1, 4, 1, 32, 1, 0, 0, 0, 0),
        /argument 1: 384 elements at byte 0/,
      ],
      [
        'packed attention gradient dqkv past the heap',
        () => addon.attentionPackedGrad(heap, 0, -1, 0, 0, 768, 1, 4, 1, 8, 1, 0, 0, 0, 0),
        /argument 5: 96 elements at byte 768/,
      ],
      [
        'in-place Adam: a moment past the heap',
        () =>
          addon.adamInPlace(
            heap,
            Int32Array.from([0, 4, 8, 250]),
            Int32Array.from([8]),
            new Float32Array(3),
            0.9,
            0.999,
            1e-8,
            0.1,
            0.001,
            1,
          ),
        /parameter 0's v runs past the heap/,
      ],
      [
        'in-place Adam: short region list',
        () =>
          addon.adamInPlace(
            heap,
            Int32Array.from([0, 4, 8]),
            Int32Array.from([1]),
            new Float32Array(3),
            0.9,
            0.999,
            1e-8,
            0.1,
            0.001,
            1,
          ),
        /argument 1 has 3 elements, needs 4/,
      ],
      ['zero threads', () => addon.setThreads(0), /argument 0 must be an integer in \[1, 4096\]/],
      ['non-finite scalar', () => addon.reduceSum(heap, 0, 16, 1, 2, 2, NaN), /argument 6 must be finite/],
    ];
    for (const [what, call, msg] of cases) {
      expect(call, what).toThrow(RangeError);
      expect(call, what).toThrow(msg);
    }
    expect(Array.from(f32)).toEqual(Array.from(before)); // nothing was written
    expect(addon.getThreads()).toBeGreaterThan(0); // and the addon still works
  });
});
