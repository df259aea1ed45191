import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PluginRegistry } from '../plugin/registry.js';
import { silentLogger } from '../util/logger.js';
import { MlpClassifier, mlpAdaptor, type FeatureBatch } from '../model/mlp.model.js';
import { BasicDistiller } from '../distillers/basic-distiller.js';
import { MultiTeacherDistiller } from '../distillers/multi-teacher-distiller.js';
import {
  DirTeacherCacheStore,
  MemoryTeacherCacheStore,
  decodeCacheEntry,
  encodeCacheEntry,
  type TeacherCacheStore,
} from './teacher-cache-store.js';
import { weightsFingerprint, type CacheRows } from './cached-teacher.js';
import type { TeacherModel } from './teacher-side.js';

type KeyedBatch = FeatureBatch & { keys: string[] };

/** 64 examples in 8-D, two classes; epoch e shuffles with seed e (batches differ per epoch). */
function source(texts = Array.from({ length: 64 }, (_, i) => `example ${i}`)) {
  const dim = 8;
  const rows = texts.map((t, i) => {
    let s = i + 1;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const y = i % 2;
    return { key: t, y, x: Float32Array.from({ length: dim }, (_, j) => rnd() + (y ? 1.5 : -1.5) * (j < 2 ? 1 : 0)) };
  });
  const batchOf = (part: typeof rows): KeyedBatch => {
    const features = new Float32Array(part.length * dim);
    part.forEach((r, j) => features.set(r.x, j * dim));
    return {
      features,
      labels: Int32Array.from(part, (r) => r.y),
      batchSize: part.length,
      dim,
      keys: part.map((r) => r.key),
    };
  };
  return {
    length: 4,
    epoch(e: number): KeyedBatch[] {
      const order = rows
        .map((_, i) => i)
        .sort((a, b) => ((a * 7919 + e * 104729) % 64) - ((b * 7919 + e * 104729) % 64));
      return [0, 1, 2, 3].map((k) => batchOf(order.slice(k * 16, k * 16 + 16).map((i) => rows[i]!)));
    },
  };
}

const rowsOf = (b: KeyedBatch): CacheRows => ({ keys: b.keys, lengths: b.keys.map(() => 0), seqLen: 0 });

let registry: PluginRegistry;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registry = new PluginRegistry({ logger: silentLogger });
  await registry.load('@distillery/plugin-loss-kd');
  await registry.load('@distillery/plugin-schedulers');
});

/** A teacher that counts its forward calls. */
function spy(model: MlpClassifier): TeacherModel<KeyedBatch> & { calls: number } {
  const s = { calls: 0, forward: (b: KeyedBatch, o: { training: false }) => (s.calls++, model.forward(b, o)) };
  return s;
}

async function distil(teacher: MlpClassifier, store?: TeacherCacheStore, data = source()) {
  const t = spy(teacher);
  const student = new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2, seed: 7 });
  const d = new BasicDistiller<KeyedBatch>({
    student: student,
    teacher: t,
    adaptorS: mlpAdaptor as never,
    adaptorT: mlpAdaptor as never,
    registry: registry.child(),
    trainingConfig: {
      numEpochs: 2,
      outputDir: mkdtempSync(join(tmpdir(), 'distillery-cache-')),
      ckptFrequency: 1000,
      optimizer: { lr: 0.05 },
    },
    distillationConfig: { temperature: 2, hardLabelWeight: 0.5, ...(store ? { teacherCache: true } : {}) },
  });
  const cache = store
    ? d.useTeacherCache({ store, namespace: weightsFingerprint(teacher.parameters()), rowsOf })
    : undefined;
  const perEpoch: number[] = [];
  const losses: number[] = [];
  const tensors: number[] = [];
  const starts: number[] = [];
  d.events.on('epochBegin', () => starts.push(t.calls));
  d.events.on('stepEnd', (e) => {
    losses.push(e.loss);
    tensors.push(tf.memory().numTensors);
  });
  await d.train({ dataloader: data });
  starts.push(t.calls);
  // Teacher forward calls made in each epoch.
  for (let i = 1; i < starts.length; i++) perEpoch.push(starts[i]! - starts[i - 1]!);
  student.dispose?.();
  return { perEpoch, losses, tensors, stats: cache?.stats, calls: t.calls };
}

describe('teacher-output cache (CachedTeacher)', () => {
  const teacher = () => new MlpClassifier({ inputDim: 8, hidden: [16], numLabels: 2, seed: 1 });

  it('the second epoch makes no teacher forward calls, with the same losses as an uncached run (memory, float32)', async () => {
    const tch = teacher();
    const plain = await distil(tch);
    expect(plain.perEpoch).toEqual([4, 4]);
    const cached = await distil(tch, new MemoryTeacherCacheStore());
    expect(cached.perEpoch).toEqual([4, 0]); // epoch 2: no teacher forward at all
    expect(cached.stats).toMatchObject({ cachedBatches: 4, liveBatches: 4, hits: 64, misses: 64 });
    cached.losses.forEach((l, i) => expect(l).toBeCloseTo(plain.losses[i]!, 5));
    expect(new Set(cached.tensors.slice(1)).size).toBe(1); // flat tensor count
    tch.dispose?.();
  });

  it('a folder cache (float16) is warm for the next run; changed text or teacher weights miss', async () => {
    const tch = teacher();
    const dir = mkdtempSync(join(tmpdir(), 'distillery-tcache-'));
    const plain = await distil(tch);
    const cold = await distil(tch, new DirTeacherCacheStore(dir, 'float16'));
    expect(cold.perEpoch).toEqual([4, 0]);
    expect(DirTeacherCacheStore.countEntries(dir)).toBe(64);
    expect(DirTeacherCacheStore.manifest(dir)).toMatchObject({ dtype: 'float16', entries: 64 });
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
    const warm = await distil(tch, new DirTeacherCacheStore(dir, 'float16'));
    expect(warm.calls).toBe(0); // a later run: no teacher at all
    warm.losses.forEach((l, i) => expect(Math.abs(l - plain.losses[i]!)).toBeLessThan(5e-3));
    // One changed text: its batch misses (and only that example is new).
    const texts = Array.from({ length: 64 }, (_, i) => (i === 5 ? 'a changed text' : `example ${i}`));
    const changed = await distil(tch, new DirTeacherCacheStore(dir, 'float16'), source(texts));
    expect(changed.stats!.misses).toBe(1); // only the changed example; its batch ran the teacher once
    expect(changed.perEpoch).toEqual([1, 0]);
    expect(DirTeacherCacheStore.countEntries(dir)).toBe(65);
    // A changed teacher weight: a new namespace, every example misses.
    const tch2 = teacher();
    const w = tch2.parameters()['classifier.weight']!;
    w.assign(tf.add(w, 1e-3));
    const other = await distil(tch2, new DirTeacherCacheStore(dir, 'float16'));
    expect(other.perEpoch).toEqual([4, 0]);
    expect(() => new DirTeacherCacheStore(dir, 'float32')).toThrow(/holds float16 entries/);
    tch.dispose?.();
    tch2.dispose?.();
  });

  it('MultiTeacherDistiller caches the combined logits', async () => {
    const [a, b] = [teacher(), new MlpClassifier({ inputDim: 8, hidden: [16], numLabels: 2, seed: 2 })];
    const sa = spy(a);
    const sb = spy(b);
    const student = new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2, seed: 7 });
    const d = new MultiTeacherDistiller<KeyedBatch>({
      student: student,
      teachers: [sa, sb],
      adaptorS: mlpAdaptor as never,
      adaptorT: mlpAdaptor as never,
      registry: registry.child(),
      trainingConfig: {
        numEpochs: 3,
        outputDir: mkdtempSync(join(tmpdir(), 'distillery-cache-')),
        ckptFrequency: 1000,
      },
      distillationConfig: { teacherCache: true },
    });
    d.useTeacherCache({
      store: new MemoryTeacherCacheStore(),
      namespace: weightsFingerprint({ ...a.parameters(), ...b.parameters() }),
      rowsOf,
    });
    await d.train({ dataloader: source() });
    expect([sa.calls, sb.calls]).toEqual([4, 4]);
  });

  it('without per-example keys a teacherCache config is refused', async () => {
    const d = new BasicDistiller<KeyedBatch>({
      student: new MlpClassifier({ inputDim: 8, hidden: [4], numLabels: 2, seed: 7 }),
      teacher: teacher(),
      adaptorS: mlpAdaptor as never,
      adaptorT: mlpAdaptor as never,
      registry: registry.child(),
      trainingConfig: { numEpochs: 1, outputDir: mkdtempSync(join(tmpdir(), 'distillery-cache-')) },
      distillationConfig: { teacherCache: true },
    });
    await expect(d.train({ dataloader: source() })).rejects.toThrow(/no per-example cache keys/);
  });

  it('entries round-trip, re-pad sequence axes, and a torn file is a miss', () => {
    const e = {
      rows: [{ field: 'hidden', index: 2, shape: [3, 2], seqAxes: [0], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    };
    const bytes = encodeCacheEntry(e, 'float32');
    expect(decodeCacheEntry(bytes)).toEqual(e);
    expect(decodeCacheEntry(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
  });

  it("a folder manifest is deterministic (entry files counted, no timestamp); seal drops dead writers' temp files", () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-seal-'));
    const e = { rows: [{ field: 'logits', shape: [2], seqAxes: [], data: Float32Array.from([1, 2]) }] };
    const a = new DirTeacherCacheStore(dir, 'float32');
    for (const k of ['aa01', 'ab02', 'aa01']) a.put(k, e); // the same key twice is one entry
    a.flush();
    const first = readFileSync(join(dir, 'manifest.json'));
    expect(JSON.parse(first.toString())).toEqual({
      format: 'distillery-teacher-cache',
      version: 1,
      dtype: 'float32',
      entries: 2,
    });
    // A writer SIGKILLed between write and rename leaves a temp file; a shard's store (put only) writes no manifest.
    writeFileSync(join(dir, 'aa', 'aa03.bin.4242.x1.tmp'), 'partial');
    const b = new DirTeacherCacheStore(dir, 'float32');
    b.put('ac03', e);
    b.seal();
    expect(readdirSync(join(dir, 'aa')).sort()).toEqual(['aa01.bin']);
    expect(DirTeacherCacheStore.manifest(dir)!.entries).toBe(3);
    // A warm run that wrote nothing leaves the manifest as it is.
    new DirTeacherCacheStore(dir, 'float32').flush();
    expect(DirTeacherCacheStore.manifest(dir)!.entries).toBe(3);
  });
});

describe('averageTeacherLogits with weights', () => {
  it('is Σ w·l / Σ w', async () => {
    const { averageTeacherLogits } = await import('../distillers/multi-teacher-distiller.js');
    const out = tf.tidy(() =>
      (
        averageTeacherLogits([{ logits: tf.tensor2d([[1, 0]]) }, { logits: tf.tensor2d([[4, 3]]) }], [2, 1])
          .logits as tf.Tensor[]
      )[0]!.dataSync(),
    );
    expect(Array.from(out)).toEqual([2, 1]);
  });
});
