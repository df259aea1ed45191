import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { LiveTeacher, keepTeacherFields } from './teacher-side.js';
import type { AdaptorOutput } from '../model/types.js';

interface Out {
  logits: tf.Tensor;
  hidden: tf.Tensor[];
  attention: tf.Tensor[];
  extra: tf.Tensor;
}
const teacher = {
  forward: (b: { x: tf.Tensor2D }): Out => ({
    logits: tf.mul(b.x, 2),
    hidden: [0, 1, 2, 3].map((i) => tf.add(b.x, i)),
    attention: [0, 1, 2].map((i) => tf.sub(b.x, i)),
    extra: tf.ones([1000]),
  }),
};
const adaptor = (_b: unknown, o: Out): AdaptorOutput => ({
  logits: o.logits,
  hidden: o.hidden,
  attention: o.attention,
  losses: o.extra,
});

describe('LiveTeacher keeps only what the loss reads', () => {
  it('frees unmatched layers and unread fields after prepare; lists keep indices and length', async () => {
    await tf.setBackend('cpu');
    const batch = { x: tf.tensor2d([[1, 2]]) };
    const side = new LiveTeacher(teacher, adaptor, { keep: { features: { hidden: [3], attention: [0, 2] } } });
    const before = tf.memory().numTensors;
    const prepared = await side.prepare(batch);
    // logits + hidden[3] + attention[0], attention[2]: 4 tensors outlive the forward (9 were returned).
    expect(tf.memory().numTensors - before).toBe(4);
    const r = side.results(batch, prepared);
    const hidden = r.hidden as tf.Tensor[];
    expect(hidden.length).toBe(4);
    expect(0 in hidden || 1 in hidden || 2 in hidden).toBe(false);
    expect(Array.from(hidden[3]!.dataSync())).toEqual([4, 5]);
    expect((r.attention as tf.Tensor[]).length).toBe(3);
    expect(Array.from((r.attention as tf.Tensor[])[2]!.dataSync())).toEqual([-1, 0]);
    expect(Array.from((r.logits as tf.Tensor).dataSync())).toEqual([2, 4]);
    expect(r.losses).toBeUndefined(); // not a field the teacher side feeds to the loss
    tf.dispose(prepared as tf.TensorContainer);
    expect(tf.memory().numTensors).toBe(before);
    batch.x.dispose();
  });

  it('without keep, the adaptor output is passed through unchanged', async () => {
    await tf.setBackend('cpu');
    const batch = { x: tf.tensor2d([[1, 2]]) };
    const side = new LiveTeacher(teacher, adaptor);
    const prepared = await side.prepare(batch);
    expect((side.results(batch, prepared).hidden as tf.Tensor[]).length).toBe(4);
    tf.dispose(prepared as tf.TensorContainer);
    batch.x.dispose();
  });

  it('a layer beyond the adaptor list stays missing, so validation reports the real length', () => {
    const out = keepTeacherFields({ hidden: [tf.scalar(1), tf.scalar(2)] }, { features: { hidden: [5] } });
    expect((out.hidden as tf.Tensor[]).length).toBe(2);
    expect(0 in (out.hidden as tf.Tensor[])).toBe(false);
  });
});
