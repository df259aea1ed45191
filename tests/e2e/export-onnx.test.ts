/** `distillery export --format onnx` then `distillery predict --runtime onnx`: the same JSON as the tfjs path. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { initBackend, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { exportCommand, predictCommand } from '@distillery/cli';

const teacher = sharedPath('models', 'clinc-bert-teacher');

function sink(): { out: Writable; text: () => string } {
  let text = '';
  return {
    out: new Writable({
      write(c, _e, cb) {
        text += String(c);
        cb();
      },
    }),
    text: () => text,
  };
}

describe.skipIf(!teacher)(`distillery export / predict --runtime onnx ${teacher ? '' : SHARED_SKIP_MESSAGE}`, () => {
  it('exports a transformers.js folder with int8 and predicts the same labels and logits as tfjs', async () => {
    await initBackend();
    const expected = JSON.parse(readFileSync(join(teacher!, 'expected.json'), 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'export-'));
    const input = join(dir, 'texts.txt');
    const texts: string[] = [...expected.texts, ...expected.batches.flatMap((b: { texts: string[] }) => b.texts)].map(
      (t: string) => t.replace(/[\t\r\n]+/g, ' '),
    );
    writeFileSync(input, texts.join('\n') + '\n');
    const report = sink();
    await exportCommand({ model: teacher!, out: join(dir, 'student'), quantize: 'int8', stream: report.out });
    expect(report.text()).toMatch(/fp32 +16\.\d\d MB .*model\.onnx +max \|Δlogit\| vs tfjs/);
    expect(report.text()).toMatch(/int8 +4\.\d\d MB .*model_quantized\.onnx/);

    const run = async (model: string, runtime?: string) => {
      const s = sink();
      await predictCommand({ model, input, jsonl: true, runtime, out: s.out });
      return s
        .text()
        .trim()
        .split('\n')
        .map(
          (l) => JSON.parse(l) as { text: string; label: string; score: number; input_ids: number[]; logits: number[] },
        );
    };
    const tfjs = await run(teacher!);
    const onnx = await run(join(dir, 'student'), 'onnx');
    expect(onnx.map((r) => r.label)).toEqual(tfjs.map((r) => r.label));
    expect(onnx.map((r) => r.input_ids)).toEqual(tfjs.map((r) => r.input_ids));
    onnx.forEach((r, i) => {
      expect(Object.keys(r)).toEqual(Object.keys(tfjs[i]!));
      expect(Math.abs(r.score - tfjs[i]!.score)).toBeLessThan(1e-4);
      r.logits.forEach((v, j) => expect(Math.abs(v - tfjs[i]!.logits[j]!)).toBeLessThan(1e-4));
    });
    const int8 = await run(join(dir, 'student', 'onnx', 'model_quantized.onnx'), 'onnx');
    const same = int8.filter((r, i) => r.label === tfjs[i]!.label).length;
    expect(same / int8.length).toBeGreaterThanOrEqual(0.9);
  });

  it('bad input: unknown format / quantization, a runtime typo', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'export-bad-'));
    await expect(exportCommand({ model: teacher!, out: join(dir, 'm.onnx'), format: 'onx' })).rejects.toThrow(
      /--format: unknown export format "onx"[\s\S]*did you mean "onnx"/,
    );
    await expect(exportCommand({ model: teacher!, out: join(dir, 'm.onnx'), quantize: 'int4' })).rejects.toThrow(
      /--quantize: unknown quantization "int4"/,
    );
    writeFileSync(join(dir, 't.txt'), 'hello\n');
    await expect(predictCommand({ model: teacher!, input: join(dir, 't.txt'), runtime: 'ort' })).rejects.toThrow(
      /--runtime: unknown runtime "ort"/,
    );
  });
});
