import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadTokenizer, type EncodedBatch } from '@distillery/data';
import { BertForSequenceClassification, bertAdaptor } from '@distillery/models';
import { OnnxTeacher } from './teacher.js';
import { OnnxSession } from './session.js';

const dir = sharedPath('models', 'clinc-bert-teacher');

interface ExpectedBatch {
  texts: string[];
  input_ids: number[][];
  logits: number[][];
  predicted_labels: string[];
}

describe.skipIf(!dir)(
  `OnnxTeacher on the shared CLINC150 model.onnx (${dir ? 'shared present' : SHARED_SKIP_MESSAGE})`,
  () => {
    let teacher: OnnxTeacher;
    const expected = dir ? JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) : {};
    const batches: ExpectedBatch[] = dir ? [expected, ...expected.batches] : [];
    beforeAll(async () => {
      await tf.setBackend('cpu');
      teacher = await OnnxTeacher.create(join(dir!, 'model.onnx'), { intraOpThreads: 1 });
    });
    afterAll(() => teacher?.dispose());

    it('maps inputs and outputs by name', () => {
      expect(teacher.inputMap).toEqual({
        input_ids: 'inputIds',
        attention_mask: 'attentionMask',
        token_type_ids: 'tokenTypeIds',
      });
      expect(teacher.outputMap.hiddenStates).toEqual([
        'hidden_states_0',
        'hidden_states_1',
        'hidden_states_2',
        'hidden_states_3',
        'hidden_states_4',
      ]);
      expect(teacher.outputMap.attentions).toHaveLength(4);
    });

    it('logits equal expected.json and the tfjs load of the same folder within 1e-4', async () => {
      const tok = loadTokenizer(dir!);
      const tfModel = await BertForSequenceClassification.fromPretrained(dir!, { trainable: false });
      let maxRef = 0;
      let maxTf = 0;
      try {
        for (const b of batches) {
          const batch = tok.encodeBatch(b.texts);
          expect(Array.from(batch.inputIds)).toEqual(b.input_ids.flat());
          const out = await teacher.forward(batch);
          expect(out.hiddenStates).toHaveLength(5);
          expect(out.attentions[0]!.shape).toEqual([b.texts.length, 4, batch.seqLen, batch.seqLen]);
          const ort = out.logits.arraySync() as number[][];
          const tfl = tf.tidy(
            () =>
              tfModel
                .forward(batch, { training: false, outputAttentions: false, outputHiddenStates: false })
                .logits.arraySync() as number[][],
          );
          ort.forEach((row, r) =>
            row.forEach((v, j) => {
              maxRef = Math.max(maxRef, Math.abs(v - b.logits[r]![j]!));
              maxTf = Math.max(maxTf, Math.abs(v - tfl[r]![j]!));
            }),
          );
          // The BERT adaptor reads the ONNX outputs like a tfjs model's.
          tf.tidy(() => {
            const a = bertAdaptor(batch, out);
            expect((a.hidden as tf.Tensor[]).length).toBe(5);
          });
          tf.dispose([out.logits, ...out.hiddenStates, ...out.attentions]);
        }
      } finally {
        tfModel.dispose();
      }
      expect(maxRef).toBeLessThan(1e-4);
      expect(maxTf).toBeLessThan(1e-4);
    });

    it('no leak over 1,000 calls (tensor count flat, RSS bounded)', async () => {
      const tok = loadTokenizer(dir!);
      const batch = tok.encodeBatch(['set an alarm for 7 am']);
      const warm = await teacher.forward(batch, { training: false, outputAttentions: false });
      tf.dispose([warm.logits, ...warm.hiddenStates]);
      const before = tf.memory().numTensors;
      const rss0 = process.memoryUsage().rss;
      for (let i = 0; i < 1000; i++) {
        const o = await teacher.forward(batch, { training: false, outputAttentions: false, outputHiddenStates: false });
        o.logits.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      // A leaked session output per call would be ~600 B·1000; a leaked session ~16 MB. Allow allocator noise.
      expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * 2 ** 20);
    });

    it('clear errors: unknown output, missing input, dtype/shape mismatch, not ONNX, truncated', async () => {
      const path = join(dir!, 'model.onnx');
      await expect(OnnxTeacher.create(path, { outputs: { logits: 'logit' } })).rejects.toThrow(
        /no output "logit"[\s\S]*outputs are logits, hidden_states_0/,
      );
      await expect(OnnxTeacher.create(path, { inputs: { input_id: 'inputIds' } })).rejects.toThrow(
        /"input_id" is not an input[\s\S]*input_ids/,
      );
      const s = await OnnxSession.create(path);
      try {
        await expect(s.run({ input_ids: { data: new Int32Array(2), dims: [1, 2] } })).rejects.toThrow(
          /graph input "attention_mask" has no value[\s\S]*inputs are input_ids, attention_mask, token_type_ids/,
        );
        const ok = { data: new Int32Array(2), dims: [1, 2] };
        await expect(
          s.run({ input_ids: { data: new Float32Array(2), dims: [1, 2] }, attention_mask: ok, token_type_ids: ok }),
        ).rejects.toThrow(/input "input_ids": expected int64 \[batch, sequence\], got float32 \[1, 2\]/);
        await expect(
          s.run({ input_ids: { data: new Int32Array(2), dims: [2] }, attention_mask: ok, token_type_ids: ok }),
        ).rejects.toThrow(/expected int64 \[batch, sequence\], got int32 \[2\]/);
      } finally {
        await s.dispose();
      }
      await expect(s.run({})).rejects.toThrow(/disposed/);
      const tmp = mkdtempSync(join(tmpdir(), 'onnx-bad-'));
      writeFileSync(join(tmp, 'notes.onnx'), 'hello, this is not a model\n');
      await expect(OnnxTeacher.create(join(tmp, 'notes.onnx'))).rejects.toThrow(
        /notes\.onnx: not a loadable ONNX model/,
      );
      writeFileSync(join(tmp, 'cut.onnx'), readFileSync(path).subarray(0, 100_000));
      await expect(OnnxTeacher.create(join(tmp, 'cut.onnx'))).rejects.toThrow(
        /cut\.onnx: not a loadable ONNX model: the file is truncated or corrupt/,
      );
      await expect(OnnxTeacher.create(join(tmp, 'missing.onnx'))).rejects.toThrow(/not found/);
    });

    it('maps a renamed graph input through `inputs`, refuses a graph input fed by nothing', async () => {
      // The fixture's names are standard; the map still validates fields.
      await expect(
        OnnxTeacher.create(join(dir!, 'model.onnx'), { inputs: { input_ids: 'ids' as never } }),
      ).rejects.toThrow(/unknown batch field "ids"/);
      const b: EncodedBatch = {
        inputIds: new Int32Array([2, 3]),
        attentionMask: new Int32Array([1, 1]),
        tokenTypeIds: new Int32Array(2),
        batchSize: 1,
        seqLen: 2,
      };
      const o = await teacher.forward(b, { training: false, outputHiddenStates: false, outputAttentions: false });
      expect(o.logits.shape).toEqual([1, 151]);
      o.logits.dispose();
    });
  },
);
