/**
 * The training-step kernels (Philox dropout, dropout + add + LayerNorm, attention softmax, packed attention and its
 * gradient) against the plain tfjs ops on cpu: values and gradients. Dropout references use the native kernel's own
 * mask (dropout of ones), so the comparison checks everything but the random bits, which get their own checks
 * (rate, determinism, independence of sites and passes, of the tensor size and of the thread split).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { maxRelDiff, nativeReady, rand, runOn } from '../testing/compare.js';
import { FUSED_KERNELS as K } from './fused.js';
import { loadAddon } from '../addon.js';

const ready = nativeReady();

const run = (name: string, inputs: tf.NamedTensorMap, attrs = {}): tf.Tensor[] => {
  const out = tf.engine().runKernel<tf.Tensor | tf.Tensor[]>(name, inputs, attrs);
  return Array.isArray(out) ? out : [out];
};

function expectClose(got: Float32Array[], ref: Float32Array[], tol = 1e-5): void {
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) expect(maxRelDiff(got[i]!, ref[i]!)).toBeLessThan(tol);
}

const attrs = (rate: number, stream = 0, counter = 0, seed = 1234) => ({ rate, seed, stream, counter });

/** The native mask (0 or 1/(1−rate)) of `shape` for these attrs. */
async function maskOf(shape: number[], a: ReturnType<typeof attrs>): Promise<Float32Array> {
  return (await runOn('native', () => run(K.dropout, { x: tf.ones(shape) }, a)))[0]!;
}

function layerNormOps(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const axis = x.shape.length - 1;
  const centered = tf.sub(x, tf.mean(x, axis, true));
  const variance = tf.mean(tf.square(centered), axis, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** Philox-4x32-10 in plain JS (Salmon et al. 2011), the reference for the addon's vectorized generator. */
function philox4x32(ctr: readonly number[], key: readonly number[]): number[] {
  const mulhilo = (a: number, b: number): [number, number] => {
    const p = BigInt(a) * BigInt(b);
    return [Number(p >> 32n), Number(p & 0xffffffffn)];
  };
  let [c0, c1, c2, c3] = ctr as [number, number, number, number];
  let [k0, k1] = key as [number, number];
  for (let r = 0; r < 10; r++) {
    const [hi0, lo0] = mulhilo(0xd2511f53, c0);
    const [hi1, lo1] = mulhilo(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [c0, c1, c2, c3];
}

describe('Philox-4x32-10 reference', () => {
  it('matches the Random123 known-answer vectors', () => {
    const hex = (v: number[]) => v.map((x) => x.toString(16).padStart(8, '0')).join(' ');
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    expect(hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]))).toBe(
      '408f276d 41c83b0e a20bc7c6 6d5451fd',
    );
    expect(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).toBe(
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });
});

describe.skipIf(!ready)('training-step kernels on native (vs tfjs ops on cpu)', () => {
  it('dropout masks are Philox-4x32-10: element 4b+j kept iff word j of block (b, stream, counter) ≥ ⌊rate·2³²⌋', async () => {
    const rate = 0.3;
    const a = attrs(rate, 5, 2 ** 33 + 7, 0xdeadbeef);
    const n = 1003; // not a multiple of 32: the vector path and the tail
    const mask = await maskOf([n], a);
    const thr = Math.floor(rate * 2 ** 32);
    for (let b = 0; b * 4 < n; b++) {
      const w = philox4x32([b, a.stream, a.counter % 2 ** 32, Math.floor(a.counter / 2 ** 32)], [a.seed, 0x6a09e667]);
      for (let j = 0; j < 4 && 4 * b + j < n; j++) expect(mask[4 * b + j] !== 0).toBe(w[j]! >= thr);
    }
  });

  it('dropout: y = x ⊙ mask/(1−rate), gradient = the same kernel on dy; rate, determinism, streams', async () => {
    const shape = [7, 333];
    const n = 7 * 333;
    const a = attrs(0.1, 3, 17);
    const mask = await maskOf(shape, a);
    const scale = 1 / 0.9;
    let kept = 0;
    for (const m of mask) {
      expect(m === 0 || Math.abs(m - scale) < 1e-6).toBe(true);
      if (m !== 0) kept++;
    }
    // 2331 draws at p = 0.9: the kept fraction lies within ±4σ (σ ≈ 0.0062).
    expect(Math.abs(kept / n - 0.9)).toBeLessThan(0.025);
    const got = await runOn('native', () => [
      run(K.dropout, { x: rand(shape, 3) }, a)[0]!,
      run(K.dropout, { x: rand(shape, 4) }, a)[0]!,
    ]);
    const ref = await runOn('cpu', () => [
      tf.mul(rand(shape, 3), tf.tensor(mask, shape)),
      tf.mul(rand(shape, 4), tf.tensor(mask, shape)),
    ]);
    expectClose(got, ref, 1e-6);
    // Same attrs: same mask; another stream, counter or seed: another mask.
    expect(Array.from(await maskOf(shape, a))).toEqual(Array.from(mask));
    for (const other of [attrs(0.1, 4, 17), attrs(0.1, 3, 18), attrs(0.1, 3, 17, 99)]) {
      const m2 = await maskOf(shape, other);
      let same = 0;
      for (let i = 0; i < n; i++) if ((m2[i] === 0) === (mask[i] === 0)) same++;
      expect(same / n).toBeLessThan(0.9); // independent masks agree on ~0.82 of the elements
    }
    // The mask of element i depends on i only: a shorter tensor is a prefix (any split over threads agrees too).
    const prefix = await maskOf([1000], a);
    expect(Array.from(prefix)).toEqual(Array.from(mask.subarray(0, 1000)));
    // rate 0 is the identity.
    const id = await runOn('native', () => run(K.dropout, { x: rand(shape, 3) }, attrs(0)));
    const x = await runOn('cpu', () => rand(shape, 3));
    expect(Array.from(id[0]!)).toEqual(Array.from(x[0]!));
  });

  it('dropout: kept fraction over 1M elements at rate 0.1 and 0.5', async () => {
    for (const rate of [0.1, 0.5]) {
      const m = await maskOf([1 << 20], attrs(rate, 1, 2));
      let kept = 0;
      for (const v of m) if (v !== 0) kept++;
      expect(Math.abs(kept / m.length - (1 - rate))).toBeLessThan(0.003);
    }
  });

  it('dropout: the mask does not depend on the number of threads', async () => {
    const addon = loadAddon()!;
    const before = addon.getFusedThreads();
    try {
      addon.setFusedThreads(1);
      const one = await maskOf([300, 1024], attrs(0.2, 5, 6));
      addon.setFusedThreads(3);
      const three = await maskOf([300, 1024], attrs(0.2, 5, 6));
      expect(Array.from(three)).toEqual(Array.from(one));
    } finally {
      addon.setFusedThreads(before);
    }
  });

  for (const [shape, rate] of [
    [[2, 3, 8], 0.1],
    [[5, 33], 0.3],
    [[130, 64], 0.1],
    [[4, 16], 0],
  ] as const) {
    it(`dropout + add + LayerNorm: value and gradients of x, residual, gamma, beta [${shape.join(', ')}], rate ${rate}`, async () => {
      const cols = shape[shape.length - 1]!;
      const a = attrs(rate, 2, 9);
      const mask = rate > 0 ? await maskOf([...shape], a) : new Float32Array(shape.reduce((p, q) => p * q, 1)).fill(1);
      const inputs = () => ({
        x: tf.add(tf.mul(rand([...shape], 3), 2), 0.3),
        res: rand([...shape], 4),
        gamma: tf.add(rand([cols], 5), 1),
        beta: rand([cols], 6),
        dy: rand([...shape], 7),
      });
      const ref = await runOn('cpu', () => {
        const { x, res, gamma, beta, dy } = inputs();
        const m = tf.tensor(mask, [...shape]);
        const f = (xi: tf.Tensor, r: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(layerNormOps(tf.add(tf.mul(xi, m), r), g, b, 1e-12), dy));
        return [layerNormOps(tf.add(tf.mul(x, m), res), gamma, beta, 1e-12), ...tf.grads(f)([x, res, gamma, beta])];
      });
      const got = await runOn('native', () => {
        const { x, res, gamma, beta, dy } = inputs();
        const [y, mean, rstd] = run(K.dropoutAddLayerNorm, { x, residual: res, gamma, beta }, { ...a, epsilon: 1e-12 });
        return [y!, ...run(K.dropoutAddLayerNormGrad, { dy, x, residual: res, gamma, mean: mean!, rstd: rstd! }, a)];
      });
      expectClose(got, ref, 2e-5);
    });
  }

  for (const [b, h, l] of [
    [2, 3, 5],
    [4, 2, 64],
  ] as const) {
    it(`attention softmax: softmax(scale·s + mask) and its gradient [${b}, ${h}, ${l}, ${l}]`, async () => {
      const shape = [b, h, l, l];
      const scale = 0.125;
      // Mask: the last key of batch row 0 masked (−10000), as BERT's extended mask.
      const maskVals = new Float32Array(b * l);
      maskVals[l - 1] = -10000;
      const inputs = () => ({
        s: tf.mul(rand(shape, 8), 6),
        dy: rand(shape, 9),
        mask: tf.tensor(maskVals, [b, 1, 1, l]),
      });
      const ref = await runOn('cpu', () => {
        const { s, dy, mask } = inputs();
        const f = (si: tf.Tensor) => tf.sum(tf.mul(tf.softmax(tf.add(tf.mul(si, scale), mask)), dy));
        return [tf.softmax(tf.add(tf.mul(s, scale), mask)), tf.grad(f)(s)];
      });
      const got = await runOn('native', () => {
        const { s, dy, mask } = inputs();
        const [p] = run(K.attentionSoftmax, { scores: s, mask }, { scale });
        return [p!, ...run(K.attentionSoftmaxGrad, { dy, probs: p! }, { scale })];
      });
      expectClose(got, ref, 1e-5);
    });
  }

  for (const [b, h, l, dh, rate] of [
    [2, 3, 5, 4, 0],
    [2, 3, 5, 4, 0.3],
    [3, 4, 64, 64, 0.1],
    [1, 1, 1, 1, 0],
  ] as const) {
    it(`packed attention: [ctx, probs] and dqkv from [B, L, 3·H·dh] qkv, [${b}, ${h}, ${l}, ${l}], dh ${dh}, rate ${rate}`, async () => {
      const d = h * dh;
      const scale = 1 / Math.sqrt(dh);
      const a = { numHeads: h, scale, ...attrs(rate, 3, 2) };
      const maskVals = new Float32Array(b * l);
      maskVals[l - 1] = -10000; // last key of batch 0 masked
      const probsShape = [b, h, l, l];
      const keep = await maskOf(probsShape, attrs(rate, 3, 2)); // the context's dropout mask, by its own kernel
      const inputs = () => ({
        qkv: tf.mul(rand([b, l, 3 * d], 21), 2),
        mask: tf.tensor(maskVals, [b, 1, 1, l]),
        wc: rand([b, l, d], 24),
        wp: rand(probsShape, 25),
      });
      // Plain ops on cpu: split, head transposes, softmax, the dropout as a product with the mask, and tf.grads.
      const ref = await runOn('cpu', () => {
        const { qkv, mask, wc, wp } = inputs();
        const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [b, l, h, dh]), [0, 2, 1, 3]);
        const attend = (x: tf.Tensor) => {
          const [q, k, v] = tf.split(x, 3, 2);
          const probs = tf.softmax(tf.add(tf.mul(tf.matMul(heads(q!), heads(k!), false, true), scale), mask));
          const dropped = tf.mul(probs, tf.tensor(keep, probsShape));
          return [tf.reshape(tf.transpose(tf.matMul(dropped, heads(v!)), [0, 2, 1, 3]), [b, l, d]), probs] as const;
        };
        const [ctx, probs] = attend(qkv);
        const both = tf.grad((x: tf.Tensor) => {
          const [c, p] = attend(x);
          return tf.add(tf.sum(tf.mul(c, wc)), tf.sum(tf.mul(p, wp)));
        })(qkv);
        const ctxOnly = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(attend(x)[0], wc)))(qkv);
        return [ctx, probs, both, ctxOnly];
      });
      const got = await runOn('native', () => {
        const { qkv, mask, wc, wp } = inputs();
        const [ctx, probs] = run(K.attentionPacked, { qkv, mask }, a);
        const [both] = run(K.attentionPackedGrad, { dctx: wc, dprobs: wp, probs: probs!, qkv }, a);
        const [ctxOnly] = run(K.attentionPackedGrad, { dctx: wc, probs: probs!, qkv }, a);
        return [ctx!, probs!, both!, ctxOnly!];
      });
      expectClose(got, ref, 1e-5);
    });
  }

  it('sum of squares over many tensors (the global gradient norm), NaN and Inf propagate', async () => {
    const shapes = [[300, 257], [7], [0], [1], [64, 64, 3], [700, 301]]; // blocks of 4096 with tails, 2 threads
    const inputs = () => shapes.map((sh, i) => tf.mul(rand(sh, 30 + i), 3));
    const ref = await runOn('cpu', () => [tf.addN(inputs().map((t) => tf.sum(tf.square(t))))]);
    const got = await runOn('native', () => run(K.sumSquares, inputs() as unknown as tf.NamedTensorMap));
    expectClose(got, ref, 1e-5);
    await tf.setBackend('native');
    const sumWith = (bad: number) =>
      tf.tidy(
        () =>
          run(K.sumSquares, [tf.ones([1000]), tf.tensor([1, bad])] as unknown as tf.NamedTensorMap)[0]!.dataSync()[0]!,
      );
    expect(Number.isNaN(sumWith(NaN))).toBe(true);
    expect(sumWith(Infinity)).toBe(Infinity);
    expect(tf.tidy(() => run(K.sumSquares, [] as unknown as tf.NamedTensorMap)[0]!.dataSync()[0])).toBe(0);
  });

  it('linear + GELU: [y, pre] = [GELU(x·Wᵀ + b), x·Wᵀ + b]', async () => {
    const inputs = () => ({ x: tf.mul(rand([37, 24], 11), 2), w: rand([40, 24], 12), b: rand([40], 13) });
    const ref = await runOn('cpu', () => {
      const { x, w, b } = inputs();
      const pre = tf.add(tf.matMul(x, w, false, true), b);
      return [tf.mul(tf.mul(pre, 0.5), tf.add(1, tf.erf(tf.mul(pre, Math.SQRT1_2)))), pre];
    });
    const got = await runOn('native', () => {
      const { x, w, b } = inputs();
      return run(K.linearGelu, { x, weight: w, bias: b });
    });
    expectClose(got, ref, 1e-5);
    // The inference kernel: y only, the same values.
    const inferred = await runOn('native', () => {
      const { x, w, b } = inputs();
      return run(K.linearGeluInfer, { x, weight: w, bias: b });
    });
    expectClose(inferred, [ref[0]!], 1e-5);
    // x of rank 3 ([B, L, K]): its leading dimensions are the rows, outputs [B, L, N] with the same values.
    const got3 = await runOn('native', () => {
      const { x, w, b } = inputs();
      const x3 = tf.reshape(tf.concat([x, x, x]), [3, 37, 24]);
      const out = [
        ...run(K.linearGelu, { x: x3, weight: w, bias: b }),
        ...run(K.linearGeluInfer, { x: x3, weight: w, bias: b }),
      ];
      expect(out.map((t) => t.shape)).toEqual([
        [3, 37, 40],
        [3, 37, 40],
        [3, 37, 40],
      ]);
      return out;
    });
    const tile = (t: Float32Array) => Float32Array.from([...t, ...t, ...t]);
    expectClose(got3, [tile(ref[0]!), tile(ref[1]!), tile(ref[0]!)], 1e-5);
  });

  it('reject bad inputs with the kernel name', async () => {
    await tf.setBackend('native');
    tf.tidy(() => {
      expect(() => run(K.dropout, { x: tf.ones([4]) }, attrs(1))).toThrow(/DistilleryDropout: rate/);
      expect(() => run(K.dropout, { x: tf.ones([4]) }, attrs(0.1, -1))).toThrow(/32-bit/);
      expect(() =>
        run(K.attentionSoftmax, { scores: tf.ones([2, 2, 3, 3]), mask: tf.ones([2, 3]) }, { scale: 1 }),
      ).toThrow(/mask must be \[2, 1, 1, 3\]/);
      const qkv = tf.ones([2, 3, 24]);
      const a = { numHeads: 3, scale: 1, ...attrs(0) };
      expect(() => run(K.attentionPacked, { qkv, mask: tf.ones([2, 1, 1, 3]) }, { ...a, numHeads: 3 })).toThrow(
        /DistilleryAttentionPacked: numHeads must divide the width 8 of each third of qkv, got 3/,
      );
      expect(() => run(K.attentionPacked, { qkv: tf.ones([2, 3, 8]), mask: tf.ones([2, 1, 1, 3]) }, a)).toThrow(
        /qkv must be \[B, L, 3·H·dh\]/,
      );
      expect(() => run(K.attentionPacked, { qkv, mask: tf.ones([2, 3]) }, { ...a, numHeads: 2 })).toThrow(
        /mask must be \[2, 1, 1, 3\], got \[2, 3\]/,
      );
      expect(() =>
        run(
          K.attentionPackedGrad,
          { dctx: tf.ones([2, 3, 8]), probs: tf.ones([2, 2, 3, 4]), qkv },
          { ...a, numHeads: 2 },
        ),
      ).toThrow(/DistilleryAttentionPackedGrad: probs must be \[2, 2, 3, 3\]/);
    });
  });
});
