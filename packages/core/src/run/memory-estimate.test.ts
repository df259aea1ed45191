import { describe, expect, it } from 'vitest';
import {
  assertFitsMemory,
  estimateStepMemory,
  largestFittingBatch,
  memoryLimitOf,
  WASM32_HEAP_BYTES,
  type MemoryEstimateInput,
} from './memory-estimate.js';
import { DistilleryError } from '../util/errors.js';

// packages/bench/configs/bench-bert-base.json: BERT-base teacher (12 × 768, vocab 30,522, 151 labels) → 6 × 768 student.
/** Parameters of a BertForSequenceClassification with vocab 30,522, 64 positions, 2 token types and 151 labels. */
function bertParams(layers: number, h: number, i: number): number {
  const embeddings = 30_522 * h + 64 * h + 2 * h + 2 * h;
  const layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
  return embeddings + layers * layer + (h * h + h) + (h * 151 + 151);
}
const teacherParams = bertParams(12, 768, 3072); // 109,254,295
const studentParams = bertParams(6, 768, 3072); // 66,727,063
const word = 30_522 * 768;
const base = (batchSize: number): MemoryEstimateInput => ({
  batchSize,
  seqLen: 64,
  student: {
    parameters: studentParams,
    largestParameter: word,
    encoder: { numHiddenLayers: 6, hiddenSize: 768, numAttentionHeads: 12, intermediateSize: 3072 },
  },
  teacher: {
    parameters: teacherParams,
    largestParameter: word,
    encoder: { numHiddenLayers: 12, hiddenSize: 768, numAttentionHeads: 12, intermediateSize: 3072 },
  },
});

describe('memory estimate of a training step', () => {
  it('reproduces the measured peak tensor bytes of the BERT-base/large benches (2.04, 2.62, 2.94 GB) within 3 %', () => {
    // Measured with `node packages/bench/dist/distill-bench.js --config packages/bench/configs/bench-bert-base.json` (peak_tensor_bytes).
    for (const [batch, measured] of [
      [8, 2_044_592_128],
      [32, 2_624_323_584],
    ] as const) {
      const e = estimateStepMemory(base(batch)).totalBytes;
      expect(Math.abs(e - measured) / measured, `batch ${batch}: ${e}`).toBeLessThan(0.03);
    }
    // bench-bert-large.json: a 24 × 1024 teacher, batch 8.
    const large = {
      ...base(8),
      teacher: {
        parameters: 334_837_911,
        largestParameter: 30_522 * 1024,
        encoder: { numHiddenLayers: 24, hiddenSize: 1024, numAttentionHeads: 16, intermediateSize: 4096 },
      },
    };
    const e = estimateStepMemory(large).totalBytes;
    expect(Math.abs(e - 2_944_466_944) / 2_944_466_944, `large: ${e}`).toBeLessThan(0.03);
  });

  it('grows linearly with tokens; no teacher and SGD need less; an external teacher counts only its outputs', () => {
    const e8 = estimateStepMemory(base(8)).totalBytes;
    const e16 = estimateStepMemory(base(16)).totalBytes;
    const e32 = estimateStepMemory(base(32)).totalBytes;
    expect(e32 - e16).toBeCloseTo(2 * (e16 - e8), 0);
    expect(estimateStepMemory({ ...base(8), teacher: undefined }).totalBytes).toBeLessThan(e8);
    expect(estimateStepMemory({ ...base(8), optimizerMoments: 0 }).totalBytes).toBe(
      e8 - 2 * 4 * (studentParams + word),
    );
    const ext = estimateStepMemory({ ...base(8), teacher: { ...base(8).teacher!, external: true } });
    expect(ext.parts.map((p) => p.what).join()).not.toMatch(/teacher weights/);
    expect(ext.parts.map((p) => p.what).join()).toMatch(/teacher outputs the matches read/);
  });

  it('limits: the wasm32 heap on native/wasm, the machine elsewhere', () => {
    expect(memoryLimitOf('native', 64e9)).toEqual({
      bytes: WASM32_HEAP_BYTES,
      what: expect.stringMatching(/native backend's wasm32 heap/),
    });
    expect(memoryLimitOf('wasm', 2e9).bytes).toBe(2e9);
    expect(memoryLimitOf('tensorflow', 64e9)).toEqual({ bytes: 64e9, what: "this machine's 64.00 GB of memory" });
  });

  it('refuses what cannot fit with the parts and the knobs, and finds the largest batch that fits', () => {
    const limit = memoryLimitOf('native', 64e9);
    expect(assertFitsMemory(base(32), limit).totalBytes).toBeLessThan(limit.bytes); // the bench case fits
    const fits = largestFittingBatch(base(128), limit);
    expect(estimateStepMemory(base(fits)).totalBytes).toBeLessThanOrEqual(limit.bytes);
    expect(estimateStepMemory(base(fits + 1)).totalBytes).toBeGreaterThan(limit.bytes);
    let err: unknown;
    try {
      assertFitsMemory(base(128), limit);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DistilleryError);
    const e = err as DistilleryError;
    expect(e.code).toBe('MEMORY_WONT_FIT');
    expect(e.where).toBe('task.batchSize');
    expect(e.message).toMatch(
      /needs about 5\.\d\d GB .* more than the native backend's wasm32 heap \(4\.03 GB usable for tensors\): student weights, gradients and optimizer moments \(66\.7 M parameters\): 1\.07 GB;/,
    );
    expect(e.hint).toContain(
      `task.batchSize ${fits} (the largest that fits; training.gradientAccumulationSteps ${Math.ceil(128 / fits)} keeps an effective batch of 128)`,
    );
    expect(e.hint).toMatch(/DISTILLERY_BACKEND=tensorflow/);
    // Weights alone too big: the batch cannot help, and the message says so.
    const huge = { ...base(1), teacher: { parameters: 2e9 } };
    expect(() => assertFitsMemory(huge, limit)).toThrow(
      expect.objectContaining({ hint: expect.stringMatching(/batchSize cannot help/) }),
    );
  });
});
