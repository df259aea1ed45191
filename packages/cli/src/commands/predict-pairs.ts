/**
 * Sentence-pair input of `distillery predict`: a JSONL file whose rows have `text_a`/`text_b` (or `textA`/`textB`).
 * @packageDocumentation
 */
import { extname } from 'node:path';
import { DistilleryError } from '@distillery/core';
import {
  loadPairs,
  readTextFile,
  type PairExample,
  type TextTokenizer,
  type TruncationStrategy,
} from '@distillery/data';
import { predictPairs, type EncoderModel } from '@distillery/models';

/** The pairs of a JSONL input file, or undefined when its first row is not a pair (single texts). */
export function readPredictPairs(file: string): PairExample[] | undefined {
  const ext = extname(file).toLowerCase();
  if (ext !== '.jsonl' && ext !== '.ndjson') return undefined;
  const first = readTextFile(file)
    .split('\n')
    .find((l) => l.trim() !== '');
  if (!first) return undefined;
  let row: unknown;
  try {
    row = JSON.parse(first);
  } catch {
    return undefined; // the single-text reader reports the bad line
  }
  if (row === null || typeof row !== 'object') return undefined;
  const keys = Object.keys(row);
  if (!keys.some((k) => k === 'text_a' || k === 'textA' || k === 'text_b' || k === 'textB')) return undefined;
  return loadPairs(file, { labelOptional: true }).examples;
}

/** Predict pairs and write one line per pair: `label<TAB>score<TAB>a<TAB>b`, or JSON with `text_a`/`text_b`. */
export function predictPairsToStream(
  model: EncoderModel,
  tokenizer: TextTokenizer,
  pairs: PairExample[],
  o: {
    batchSize: number;
    json?: boolean;
    jsonl?: boolean;
    out: NodeJS.WritableStream;
    truncation?: TruncationStrategy;
  },
): void {
  const strategies = ['longest_first', 'only_first', 'only_second', 'do_not_truncate'];
  if (o.truncation !== undefined && !strategies.includes(o.truncation)) {
    throw new DistilleryError('USAGE', `unknown truncation "${o.truncation}"`, {
      where: '--truncation',
      hint: strategies.join(', '),
    });
  }
  // The same output shapes as single texts: one document (json), one object per line (jsonl), or TSV lines.
  const rows = predictPairs(model, tokenizer, pairs, { batchSize: o.batchSize, truncation: o.truncation }).map((p) => ({
    text_a: p.textA,
    text_b: p.textB,
    label: p.label,
    score: p.score,
    input_ids: p.inputIds,
    logits: p.logits,
  }));
  if (o.json) o.out.write(JSON.stringify({ predictions: rows }) + '\n');
  else if (o.jsonl) for (const r of rows) o.out.write(JSON.stringify(r) + '\n');
  else for (const r of rows) o.out.write(`${r.label}\t${r.score.toFixed(4)}\t${r.text_a}\t${r.text_b}\n`);
}
