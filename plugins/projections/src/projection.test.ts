import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import pkg, { linearProjection, reluProjection, tanhProjection, createProjection } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('projections', () => {
  it('y = act(x·Wᵀ + b) on (…, dimS) with PyTorch-layout W', () => {
    const W = [
      [1, 0, -1],
      [2, 1, 0],
    ]; // (dimT=2, dimS=3)
    const x = tf.tensor3d([[[1, 2, 3]], [[-1, 0, 1]]]); // (2, 1, 3)
    const lin = linearProjection().create(
      { dimS: 3, dimT: 2, name: 'p.lin', options: { weight: W, bias: [0.5, -5] } },
      undefined as never,
    );
    expect(lin.apply(x).shape).toEqual([2, 1, 2]);
    expect(lin.apply(x).arraySync()).toEqual([[[-1.5, -1]], [[-1.5, -7]]]);
    const relu = reluProjection().create(
      { dimS: 3, dimT: 2, name: 'p.relu', options: { weight: W, bias: [0.5, -5] } },
      undefined as never,
    );
    expect(relu.apply(x).arraySync()).toEqual([[[0, 0]], [[0, 0]]]);
    const th = tanhProjection().create(
      { dimS: 3, dimT: 2, name: 'p.tanh', options: { weight: W, bias: [0.5, -5] } },
      undefined as never,
    );
    expect((th.apply(x).arraySync() as number[][][])[0]![0]![0]).toBeCloseTo(Math.tanh(-1.5), 6);
    [lin, relu, th].forEach((p) => p.dispose());
  });
  it('default init: seeded N(0, 0.02), zero bias, unique trainable variables', () => {
    const a = createProjection('linear', { dimS: 64, dimT: 32, name: 'm0.proj', seed: 7 });
    const b = createProjection('linear', { dimS: 64, dimT: 32, name: 'm1.proj', seed: 7 });
    expect(a.variables.map((v) => v.name)).toEqual(['m0.proj/weight', 'm0.proj/bias']);
    expect(a.variables.every((v) => v.trainable)).toBe(true);
    expect(a.variables[0]!.shape).toEqual([32, 64]);
    expect(Array.from(a.variables[0]!.dataSync())).toEqual(Array.from(b.variables[0]!.dataSync()));
    const w = Array.from(a.variables[0]!.dataSync());
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.003);
    expect(std).toBeGreaterThan(0.017);
    expect(std).toBeLessThan(0.023);
    expect(Array.from(a.variables[1]!.dataSync()).every((v) => v === 0)).toBe(true);
    expect(() => createProjection('linear', { dimS: 64, dimT: 32, name: 'm0.proj' })).toThrow(
      /"m0.proj\/weight" already exists/,
    );
    a.dispose();
    b.dispose();
    // the name is free again after dispose
    createProjection('linear', { dimS: 4, dimT: 2, name: 'm0.proj' }).dispose();
  });
  it('gradients reach W and b; apply leaks nothing; shape/dtype errors', () => {
    const p = createProjection('tanh', { dimS: 3, dimT: 2, name: 'g.proj' });
    const x = tf.ones([4, 3]);
    const { grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(p.apply(x)));
    expect(Object.keys(grads).sort()).toEqual(['g.proj/bias', 'g.proj/weight']);
    tf.dispose(grads);
    const before = tf.memory().numTensors;
    p.apply(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => p.apply(tf.ones([4, 5]))).toThrow(
      /g.proj: projection tanh: input has shape \(4, 5\) but the projection maps last axis 3 → 2/,
    );
    expect(() => p.apply(tf.ones([4, 3], 'int32'))).toThrow(/float32/);
    expect(() => createProjection('linear', { dimS: 3, dimT: 2, name: 'bad', options: { weight: [[1, 2]] } })).toThrow(
      /options.weight has shape \(1, 2\), expected \(2, 3\)/,
    );
    p.dispose();
    expect(pkg.plugins().map((q) => q.meta.name)).toEqual(['linear', 'relu', 'tanh']);
  });
});
