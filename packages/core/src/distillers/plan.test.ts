import { describe, it, expect } from 'vitest';
import { planLoop, scheduledWeight, type LoopParams } from './plan.js';

/** Replays a plan into TextBrewer's trace shape (the shared reference uses the same fields). */
function trace(p: LoopParams) {
  const plan = planLoop(p);
  const fwd: number[][] = [];
  const opt: number[] = [];
  const ck: number[] = [];
  for (const e of plan.events()) {
    if (e.type === 'forward') fwd.push([e.counter, scheduledWeight(1, (x) => 1 - x, e.globalStep, plan.totalSteps)]);
    if (e.type === 'optimizerStep') opt.push(e.afterCounter);
    if (e.type === 'checkpoint') ck.push(e.globalStep);
  }
  return { fwd, opt, ck, total: plan.totalSteps };
}

const base = { ckptFrequency: 1, ckptEpochFrequency: 1, compat: 'textbrewer' as const };

describe('planLoop', () => {
  it('textbrewer compat drops leftover batches (5 batches, g=2, 2 epochs)', () => {
    const t = trace({ ...base, nBatches: 5, gradientAccumulationSteps: 2, numEpochs: 2 });
    expect(t.opt).toEqual([1, 3, 6, 8]);
    expect(t.ck).toEqual([2, 4]);
    expect(t.fwd.map((f) => f[1])).toEqual([1, 1, 0.75, 0.75, 0.5, 0.5, 0.5, 0.25, 0.25, 0]);
  });
  it('distillery mode applies the leftover group at epoch end', () => {
    const t = trace({ ...base, compat: 'distillery', nBatches: 5, gradientAccumulationSteps: 2, numEpochs: 2 });
    expect(t.total).toBe(6);
    expect(t.opt).toEqual([1, 3, 4, 6, 8, 9]);
    expect(t.ck).toEqual([3, 6]);
    const sizes = [
      ...planLoop({ ...base, compat: 'distillery', nBatches: 5, gradientAccumulationSteps: 2, numEpochs: 1 }).events(),
    ].flatMap((e) => (e.type === 'forward' ? [e.groupSize] : []));
    expect(sizes).toEqual([2, 2, 2, 2, 1]);
  });
  it('steps mode cycles data and saves at multiples and at the end', () => {
    const t = trace({ ...base, nBatches: 3, gradientAccumulationSteps: 2, numSteps: 7, ckptSteps: 3 });
    expect(t.opt).toEqual([1, 3, 5, 7, 9, 11, 13]);
    expect(t.ck).toEqual([3, 6, 7]);
  });
  it('epoch checkpoint frequency', () => {
    const t = trace({ ...base, nBatches: 8, gradientAccumulationSteps: 1, numEpochs: 2, ckptFrequency: 2 });
    expect(t.ck).toEqual([4, 8, 12, 16]);
    const t2 = trace({ ...base, nBatches: 4, gradientAccumulationSteps: 1, numEpochs: 3, ckptEpochFrequency: 2 });
    expect(t2.ck).toEqual([8, 12]);
  });
  it('rejects bad settings', () => {
    expect(() => planLoop({ ...base, nBatches: 2, gradientAccumulationSteps: 1 })).toThrow(/exactly one/);
    expect(() => planLoop({ ...base, nBatches: 1, gradientAccumulationSteps: 4, numEpochs: 1 })).toThrow(/exceeds/);
  });
});
