/**
 * Sentence-pair data (MRPC/QQP/STS style): rows with two texts and a label, from JSONL, CSV or TSV.
 * Field names default to `textA`/`textB` and also accept `text_a`/`text_b` (and `sentence1`/`sentence2`).
 * @packageDocumentation
 */
import { extname } from 'node:path';
import { DistilleryError } from '@distillery/core';
import { parseCsv, readTextFile } from './text.loaders.js';

/** One pair: two texts and (for supervised data) a label name or a number (regression). */
export interface PairExample {
  textA: string;
  textB: string;
  label?: string;
}

/** A loaded pair file. */
export interface LoadedPairs {
  examples: PairExample[];
  file: string;
  /** Field/column names actually used. */
  fields: { textA: string; textB: string; label: string };
}

/** Options of {@link loadPairs}. */
export interface PairLoaderOptions {
  /** Field of the first text; default the first present of `textA`, `text_a`, `sentence1`. */
  textAField?: string;
  /** Field of the second text; default the first present of `textB`, `text_b`, `sentence2`. */
  textBField?: string;
  /** @default 'label' */
  labelField?: string;
  /** Allow rows without a label (prediction, unlabelled distillation). @default false */
  labelOptional?: boolean;
  /** CSV/TSV delimiter (default by extension). */
  delimiter?: string;
}

const A_NAMES = ['textA', 'text_a', 'sentence1'];
const B_NAMES = ['textB', 'text_b', 'sentence2'];

function pick(given: string | undefined, names: string[], present: (n: string) => boolean): string {
  return given ?? names.find(present) ?? names[0]!;
}

/** Load pairs by extension: `.jsonl`/`.ndjson`, `.csv`, `.tsv`. Bad rows throw naming `file:line` and the field. */
export function loadPairs(file: string, opts: PairLoaderOptions = {}): LoadedPairs {
  const ext = extname(file).toLowerCase();
  const lf = opts.labelField ?? 'label';
  const out: PairExample[] = [];
  let fields: LoadedPairs['fields'] | undefined;
  const add = (line: number, rec: Record<string, unknown>) => {
    fields ??= {
      textA: pick(opts.textAField, A_NAMES, (n) => n in rec),
      textB: pick(opts.textBField, B_NAMES, (n) => n in rec),
      label: lf,
    };
    const where = `${file}:${line}`;
    const text = (f: string, names: string[]) => {
      const v = rec[f];
      if (typeof v !== 'string' || v.trim() === '') {
        throw new DistilleryError(
          'DATA_INVALID',
          v === undefined
            ? `missing field "${f}"`
            : `field "${f}" must be a non-empty string, got ${JSON.stringify(v)}`,
          {
            where,
            hint: opts[f === fields!.textA ? 'textAField' : 'textBField']
              ? undefined
              : `pair rows need ${names.join(' / ')} fields (or set textAField / textBField)`,
          },
        );
      }
      return v;
    };
    const ex: PairExample = { textA: text(fields.textA, A_NAMES), textB: text(fields.textB, B_NAMES) };
    const label = rec[lf];
    if (label === undefined || label === null || label === '') {
      if (!opts.labelOptional)
        throw new DistilleryError('DATA_INVALID', `missing label (field "${lf}")`, {
          where,
          hint: 'set labelField, or labelOptional for unlabelled pairs',
        });
    } else if (typeof label === 'string' || typeof label === 'number') ex.label = String(label);
    else
      throw new DistilleryError('DATA_INVALID', `label must be a string or number, got ${JSON.stringify(label)}`, {
        where,
      });
    out.push(ex);
  };
  if (ext === '.jsonl' || ext === '.ndjson') {
    readTextFile(file)
      .split('\n')
      .forEach((raw, i) => {
        const line = raw.replace(/\r$/, '');
        if (line.trim() === '') return;
        let obj: unknown;
        try {
          obj = JSON.parse(line);
        } catch (err) {
          throw new DistilleryError('DATA_INVALID', `invalid JSON: ${(err as Error).message}`, {
            where: `${file}:${i + 1}`,
          });
        }
        if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
          throw new DistilleryError('DATA_INVALID', 'each line must be a JSON object', { where: `${file}:${i + 1}` });
        add(i + 1, obj as Record<string, unknown>);
      });
  } else if (ext === '.csv' || ext === '.tsv') {
    const records = parseCsv(readTextFile(file), opts.delimiter ?? (ext === '.tsv' ? '\t' : ','), file);
    const head = records[0];
    if (head) {
      for (const r of records.slice(1)) {
        if (r.fields.length !== head.fields.length)
          throw new DistilleryError('DATA_INVALID', `expected ${head.fields.length} fields, found ${r.fields.length}`, {
            where: `${file}:${r.line}`,
            hint: 'quote fields that contain the delimiter',
          });
        add(r.line, Object.fromEntries(head.fields.map((h, j) => [h, r.fields[j]])));
      }
    }
  } else {
    throw new DistilleryError('DATA_FORMAT', `unknown pair file type "${ext}"`, {
      where: file,
      hint: 'use .jsonl, .csv or .tsv',
    });
  }
  return {
    examples: out,
    file,
    fields: fields ?? { textA: opts.textAField ?? 'textA', textB: opts.textBField ?? 'textB', label: lf },
  };
}
