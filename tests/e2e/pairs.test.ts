/**
 * Sentence pairs on the PyTorch-made clinc-pair-bert: both tokenizer paths give expected.json's ids and
 * token types (incl. longest_first truncation), and `distillery predict` on a text_a/text_b JSONL file
 * reproduces its logits within 1e-4.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { initBackend, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadTokenizer, padEncodings } from '@distillery/data';
import { predictCommand } from '@distillery/cli';

const model = sharedPath('models', 'clinc-pair-bert');
interface Batch {
  name?: string;
  text_a: string[];
  text_b: string[];
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
  logits: number[][];
  predicted_labels: string[];
}

describe.skipIf(!model)(`sentence pairs on clinc-pair-bert ${model ? '' : SHARED_SKIP_MESSAGE}`, () => {
  const expected = model ? JSON.parse(readFileSync(join(model, 'expected.json'), 'utf8')) : {};
  const batches: Batch[] = model ? [expected, ...expected.batches] : [];

  for (const implementation of ['hf', 'wordpiece'] as const) {
    it(`${implementation} tokenizer: ids and token_type_ids of every batch (longest_first at 64)`, () => {
      const tok = loadTokenizer(model!, { implementation });
      for (const b of batches) {
        const encs = b.text_a.map((a, i) => tok.encodePair!(a, b.text_b[i]!));
        const batch = padEncodings(encs, tok.padId);
        expect(Array.from(batch.inputIds)).toEqual(b.input_ids.flat());
        expect(Array.from(batch.tokenTypeIds)).toEqual(b.token_type_ids.flat());
        expect(Array.from(batch.attentionMask)).toEqual(b.attention_mask.flat());
      }
    });
  }

  it('distillery predict --input pairs.jsonl reproduces the logits within 1e-4 (text_a/text_b and textA/textB)', async () => {
    await initBackend({ backend: 'cpu' });
    const dir = mkdtempSync(join(tmpdir(), 'pairs-'));
    let maxDiff = 0;
    for (const [k, b] of batches.entries()) {
      const input = join(dir, `p${k}.jsonl`);
      const [fa, fb] = k % 2 ? ['textA', 'textB'] : ['text_a', 'text_b'];
      writeFileSync(input, b.text_a.map((a, i) => JSON.stringify({ [fa]: a, [fb]: b.text_b[i] })).join('\n') + '\n');
      let text = '';
      const out = new Writable({
        write(c, _e, cb) {
          text += String(c);
          cb();
        },
      });
      await predictCommand({ model: model!, input, jsonl: true, out });
      const rows = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rows.map((r) => r.label)).toEqual(b.predicted_labels);
      rows.forEach((r, i) => {
        expect(r.text_a).toBe(b.text_a[i]);
        expect(r.input_ids).toEqual(b.input_ids[i]!.filter((_, j) => b.attention_mask[i]![j] === 1));
        r.logits.forEach((v: number, j: number) => (maxDiff = Math.max(maxDiff, Math.abs(v - b.logits[i]![j]!))));
      });
    }
    console.log(`pair predict: max |logit - expected| over ${batches.length} batches: ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
