import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
  writeSafetensorsStreaming,
} from './safetensors.js';
import { f16ToF32, f32ToF16 } from './half.js';
import { writeFileAtomic } from './atomic.js';
import { sharedPath, SHARED_SKIP_MESSAGE } from '../util/shared.js';
import { DistilleryError } from '../util/errors.js';

describe('safetensors', () => {
  it('round-trips F32/I32/I64 tensors bit-exactly with metadata and padded header', () => {
    const w = new Float32Array([1.5, -2.25, 3e-38, Math.PI, -0, NaN]);
    const bytes = serializeSafetensors(
      {
        'b.weight': { data: w, shape: [2, 3] },
        'a.ids': { data: new Int32Array([1, -2, 3]), shape: [3], dtype: 'I64' },
        c: { data: new Int32Array([7]), shape: [] },
      },
      { format: 'pt' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
    expect(Object.keys(header)).toEqual(['a.ids', 'b.weight', 'c', '__metadata__']);
    expect(header['a.ids']).toEqual({ dtype: 'I64', shape: [3], data_offsets: [0, 24] });
    expect(header['b.weight'].data_offsets).toEqual([24, 48]);
    const f = parseSafetensors(bytes);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect(Array.from(f.tensors.get('a.ids')!.data)).toEqual([1, -2, 3]);
    const back = f.tensors.get('b.weight')!;
    expect(back.shape).toEqual([2, 3]);
    expect(new Uint32Array(back.data.buffer)).toEqual(new Uint32Array(w.buffer));
    expect(f.tensors.get('c')!.shape).toEqual([]);
  });

  it('converts F16 to float32 on read', () => {
    const vals = new Float32Array([0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, Infinity]);
    const half = f32ToF16(vals);
    expect(Array.from(f16ToF32(half))).toEqual(Array.from(vals));
    const bytes = serializeSafetensors({ x: { data: vals, shape: [8], dtype: 'F16' } });
    const t = parseSafetensors(bytes).tensors.get('x')!;
    expect(t.dtype).toBe('F16');
    expect(Array.from(t.data)).toEqual(Array.from(vals));
    expect(f16ToF32(f32ToF16(new Float32Array([0.1])))[0]).toBeCloseTo(0.1, 3);
  });

  it('rejects corrupt files with errors naming the file', () => {
    expect(() => parseSafetensors(new Uint8Array(4), 'x.safetensors')).toThrow(/x\.safetensors.*too short/);
    const good = serializeSafetensors({ x: { data: new Float32Array(4), shape: [4] } });
    expect(() => parseSafetensors(good.subarray(0, good.length - 4), 'y.safetensors')).toThrow(
      /y\.safetensors: tensor "x"/,
    );
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setBigUint64(0, 1000n, true);
    expect(() => parseSafetensors(bad, 'z')).toThrow(DistilleryError);
    expect(() => serializeSafetensors({ x: { data: new Float32Array(3), shape: [2, 2] } })).toThrow(/needs 4/);
  });

  it('writes atomically through a temp file and leaves nothing behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const p = join(dir, 'm.safetensors');
    writeFileSync(p, 'old');
    await writeSafetensors(p, { x: { data: new Float32Array([1, 2]), shape: [2] } }, { format: 'pt' });
    expect(readdirSync(dir)).toEqual(['m.safetensors']);
    const f = await readSafetensors(p);
    expect(Array.from(f.tensors.get('x')!.data)).toEqual([1, 2]);
    await expect(writeFileAtomic(join(dir, 'missing', 'f'), 'x')).rejects.toThrow(/IO_WRITE_FAILED|could not write/);
    await expect(readSafetensors(join(dir, 'nope'))).rejects.toThrow(/nope/);
  });

  it('streams one tensor at a time into the same bytes, and leaves nothing behind when a read or check fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const tensors = {
      'b.w': { data: new Float32Array([1, -2, 3.5, 4]), shape: [2, 2] },
      'a.ids': { data: new Int32Array([5, 6]), shape: [2], dtype: 'I32' as const },
    };
    const order: string[] = [];
    const p = join(dir, 's.safetensors');
    await writeSafetensorsStreaming(
      p,
      Object.fromEntries(
        Object.entries(tensors).map(([k, t]) => [
          k,
          { shape: t.shape, dtype: t.dtype, read: () => (order.push(k), t.data) },
        ]),
      ),
      { format: 'pt' },
    );
    expect(order).toEqual(['a.ids', 'b.w']); // read lazily, in file (name) order
    expect(Buffer.from(readFileSync(p)).equals(Buffer.from(serializeSafetensors(tensors, { format: 'pt' })))).toBe(
      true,
    );
    // Chunks in order give the same file; a NaN's flat index counts from the tensor's start; a short or long chunk list is refused.
    async function* chunks(...parts: number[][]) {
      for (const p of parts) yield await Promise.resolve(new Float32Array(p));
    }
    const q = join(dir, 'c.safetensors');
    await writeSafetensorsStreaming(
      q,
      {
        'a.ids': { shape: [2], dtype: 'I32', read: () => tensors['a.ids'].data },
        'b.w': { shape: [2, 2], read: () => chunks([1, -2], [3.5], [4]) },
      },
      { format: 'pt' },
    );
    expect(Buffer.from(readFileSync(q)).equals(Buffer.from(readFileSync(p)))).toBe(true);
    const seen: [string, number][] = [];
    await writeSafetensorsStreaming(
      join(dir, 'd.safetensors'),
      { w: { shape: [4], read: () => chunks([1, 2], [3, 4]) } },
      {},
      { check: (n, d, off) => seen.push([n, off + d.length]) },
    );
    expect(seen).toEqual([
      ['w', 2],
      ['w', 4],
    ]);
    await expect(
      writeSafetensorsStreaming(join(dir, 'e.safetensors'), { w: { shape: [4], read: () => chunks([1, 2]) } }),
    ).rejects.toThrow(/has 2 values but shape \[4\] needs 4/);
    await expect(
      writeSafetensorsStreaming(join(dir, 'e.safetensors'), { w: { shape: [1], read: () => chunks([1, 2]) } }),
    ).rejects.toThrow(/chunks hold more than/);
    for (const f of ['c.safetensors', 'd.safetensors']) rmSync(join(dir, f));
    const failing = { x: { shape: [1], read: () => Promise.reject(new Error('backend lost')) } };
    await expect(writeSafetensorsStreaming(join(dir, 'f.safetensors'), failing)).rejects.toThrow(
      /IO_WRITE_FAILED|backend lost/,
    );
    const check = () => {
      throw new DistilleryError('NON_FINITE_WEIGHTS', 'x holds NaN');
    };
    await expect(
      writeSafetensorsStreaming(
        join(dir, 'g.safetensors'),
        { x: { shape: [1], read: () => new Float32Array([NaN]) } },
        {},
        { check },
      ),
    ).rejects.toThrow(/x holds NaN/);
    await expect(
      writeSafetensorsStreaming(join(dir, 'h.safetensors'), { x: { shape: [3], read: () => new Float32Array([1]) } }),
    ).rejects.toThrow(/needs 3/);
    expect(readdirSync(dir)).toEqual(['s.safetensors']);
  });

  const teacher = sharedPath('models', 'clinc-bert-teacher', 'model.safetensors');
  describe.skipIf(!teacher)(`teacher file (${teacher ? 'present' : SHARED_SKIP_MESSAGE})`, () => {
    it('reads the PyTorch-made teacher and re-serialises it to the identical file', async () => {
      const f = await readSafetensors(teacher!);
      expect(f.metadata).toEqual({ format: 'pt' });
      expect(f.tensors.get('bert.embeddings.word_embeddings.weight')!.shape).toEqual([2971, 256]);
      expect(f.tensors.get('classifier.weight')!.shape).toEqual([151, 256]);
      const input = Object.fromEntries([...f.tensors].map(([k, t]) => [k, { data: t.data, shape: t.shape }]));
      const again = serializeSafetensors(input, f.metadata);
      const orig = readFileSync(teacher!);
      expect(again.length).toBe(orig.length);
      expect(Buffer.from(again).equals(orig)).toBe(true);
    });
  });
});
