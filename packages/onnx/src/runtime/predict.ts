/**
 * Batched text classification with ONNX Runtime: the same `Prediction` objects (label, softmax score,
 * input ids, logits) as `predictTexts` of @distillery/models gives for tfjs models.
 * @packageDocumentation
 */
import { DistilleryError } from '@distillery/core';
import { collate, type TextTokenizer } from '@distillery/data';
import type { Prediction, PredictOptions } from '@distillery/models';
import type { OnnxSession } from '../session.js';

/** Softmax probability of row entry `best` (max-subtracted, in float64). */
function softmaxAt(row: ArrayLike<number>, best: number): number {
  const m = row[best]!;
  let z = 0;
  for (let j = 0; j < row.length; j++) z += Math.exp(row[j]! - m);
  return 1 / z;
}

/**
 * Classify texts with a sequence-classification graph (inputs fed by name: input_ids, attention_mask,
 * token_type_ids; output `logits` [B, C]). Results come back in input order.
 */
export async function predictTextsOnnx(
  session: OnnxSession,
  tokenizer: TextTokenizer,
  texts: readonly string[],
  id2label: readonly string[],
  opts: PredictOptions = {},
): Promise<Prediction[]> {
  const { batchSize = 64, sortByLength = true } = opts;
  const encs = texts.map((t) => tokenizer.encode(t));
  const order = texts.map((_, i) => i);
  if (sortByLength) order.sort((a, b) => encs[a]!.ids.length - encs[b]!.ids.length || a - b);
  const out: Prediction[] = new Array<Prediction>(texts.length);
  const fields = { input_ids: 'inputIds', attention_mask: 'attentionMask', token_type_ids: 'tokenTypeIds' } as const;
  for (let s = 0; s < order.length; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const batch = collate(
      idx.map((i) => encs[i]!),
      tokenizer.padId,
    );
    const dims = [batch.batchSize, batch.seqLen];
    const feeds = Object.fromEntries(
      session.inputNames.map((n) => [n, { data: batch[fields[n as keyof typeof fields]], dims }]),
    );
    const { logits } = await session.run(feeds, ['logits']);
    const c = logits!.dims[1]!;
    if (logits!.dims.length !== 2 || c !== id2label.length) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `output "logits" is [${logits!.dims.join(', ')}], expected [batch, ${id2label.length}] (one score per label of config.json)`,
        { where: session.path },
      );
    }
    const data = logits!.data as Float32Array;
    idx.forEach((i, r) => {
      const row = Array.from(data.subarray(r * c, (r + 1) * c));
      let best = 0;
      for (let j = 1; j < c; j++) if (row[j]! > row[best]!) best = j;
      out[i] = {
        text: texts[i]!,
        labelId: best,
        label: id2label[best]!,
        score: softmaxAt(row, best),
        inputIds: encs[i]!.ids,
        logits: row,
      };
    });
    opts.onProgress?.(Math.min(s + batchSize, order.length), order.length);
  }
  return out;
}
