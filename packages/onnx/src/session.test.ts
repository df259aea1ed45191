import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { EncodedBatch } from '@distillery/data';
import { GraphBuilder, ai } from './export/builder.js';
import { DT, encodeModel } from './proto.js';
import { OnnxSession } from './session.js';
import { OnnxTeacher } from './teacher.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A graph with an int32 ids input and a bool mask input: out = float(ids) + float(mask). */
function typedGraph(): Uint8Array {
  const g = new GraphBuilder();
  const a = g.op('Cast', ['ids'], { to: ai(DT.FLOAT) });
  const b = g.op('Cast', ['mask'], { to: ai(DT.FLOAT) });
  g.op('Add', [a, b], {}, 'out');
  return encodeModel(
    g.model({
      name: 'typed',
      opset: 17,
      inputs: [
        { name: 'ids', elemType: DT.INT32, dims: ['batch', 'sequence'] },
        { name: 'mask', elemType: DT.BOOL, dims: ['batch', 'sequence'] },
      ],
      outputs: [{ name: 'out', elemType: DT.FLOAT, dims: ['batch', 'sequence'] }],
    }),
  );
}

describe('OnnxSession / OnnxTeacher type conversion and input maps (built graph, no shared data)', () => {
  beforeAll(() => tf.setBackend('cpu'));
  const batch: EncodedBatch = {
    inputIds: new Int32Array([5, 6, 7, 0]),
    attentionMask: new Int32Array([1, 1, 1, 0]),
    tokenTypeIds: new Int32Array(4),
    batchSize: 2,
    seqLen: 2,
  };

  it('feeds int32 ids and bool masks from Int32Array batches through an inputs map', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-typed-'));
    writeFileSync(join(dir, 'typed.onnx'), typedGraph());
    const t = await OnnxTeacher.create(join(dir, 'typed.onnx'), {
      inputs: { ids: 'inputIds', mask: 'attentionMask' },
      outputs: { logits: 'out' },
    });
    try {
      expect(t.session.inputs.map((i) => i.type)).toEqual(['int32', 'bool']);
      const before = tf.memory().numTensors;
      const o = await t.forward(batch, { training: false });
      expect(Array.from(o.logits.dataSync())).toEqual([6, 7, 8, 0]);
      expect(o.hiddenStates).toEqual([]);
      o.logits.dispose();
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      t.dispose();
    }
  });

  it('a graph input no batch field feeds is refused, listing the graph inputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-typed-'));
    writeFileSync(join(dir, 'typed.onnx'), typedGraph());
    await expect(OnnxTeacher.create(join(dir, 'typed.onnx'), { outputs: { logits: 'out' } })).rejects.toThrow(
      /graph input "ids" is fed by no batch field[\s\S]*inputs are ids, mask/,
    );
  });

  it('unknown execution provider and bad options name the option', async () => {
    // "cuda" is listed by the CPU build but its library is not installed: a clear error either way.
    await expect(
      OnnxSession.create('x.onnx', { executionProviders: ['cuda'], logSeverityLevel: 4 }, typedGraph()),
    ).rejects.toThrow(
      /executionProviders: execution provider "cuda" (could not be started|is not in this onnxruntime-node build)/,
    );
    await expect(OnnxSession.create('x.onnx', { executionProviders: ['tpu'] }, typedGraph())).rejects.toThrow(
      /executionProviders: execution provider "tpu" is not in this onnxruntime-node build/,
    );
    await expect(OnnxSession.create('x.onnx', { intraOpThreads: -1 }, typedGraph())).rejects.toThrow(/intraOpThreads/);
    await expect(OnnxSession.create('x.onnx', { graphOptimizationLevel: 'al' as never }, typedGraph())).rejects.toThrow(
      /did you mean "all"/,
    );
  });
});
