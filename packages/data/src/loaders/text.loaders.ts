/**
 * Loaders for JSONL, CSV/TSV and JSON files of `(text, label)` rows.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { DistilleryError } from '@distillery/core';
import type { LoadedDataset } from '../types.js';
import { RowCollector, type LoaderOptions } from './rows.js';

/**
 * Read a text file; errors name the file. Bytes are decoded strictly: invalid UTF-8 is an error naming
 * `file:line` (a silent U+FFFD would change the texts), unless `encoding` names the file's encoding
 * (any WHATWG label: `latin1`, `windows-1252`, `utf-16le`, …).
 */
export function readTextFile(file: string, encoding?: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new DistilleryError('IO_READ_FAILED', `cannot read data file: ${(err as Error).message}`, {
      where: file,
      cause: err,
    });
  }
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(encoding ?? 'utf-8', { fatal: true });
  } catch {
    throw new DistilleryError('DATA_ENCODING', `unknown encoding "${encoding}"`, {
      where: file,
      hint: 'use a WHATWG encoding label such as utf-8, latin1, windows-1252, utf-16le',
    });
  }
  try {
    return decoder.decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const line = bytes.subarray(0, bad).reduce((n, b) => n + (b === 0x0a ? 1 : 0), 1);
    throw new DistilleryError(
      'DATA_ENCODING',
      `bytes that are not valid ${encoding ?? 'UTF-8'} (first at byte ${bad}: 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')})`,
      {
        where: `${file}:${line}`,
        hint: 're-save the file as UTF-8, or set task.data.encoding to its encoding (e.g. "latin1")',
      },
    );
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n === 0) return i;
    for (let k = 1; k < n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n;
  }
  return 0;
}

/** JSON Lines: one object per line with `text` and `label` fields (names configurable). Blank lines are skipped. */
export function loadJsonl(file: string, opts: LoaderOptions = {}): LoadedDataset {
  const rows = new RowCollector(file, opts);
  const tf = opts.textField ?? 'text';
  const lf = opts.labelField ?? 'label';
  let first = true;
  readTextFile(file, opts.encoding)
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '') return;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (err) {
        // A first line like `text,label` is a CSV header: say so instead of failing on every row.
        if (first && !/^\s*[{[]/.test(line) && /[,\t]/.test(line)) {
          throw new DistilleryError(
            'DATA_FORMAT',
            `this JSONL file's line ${i + 1} looks like a CSV/TSV header (${JSON.stringify(line.slice(0, 60))})`,
            {
              where: `${file}:${i + 1}`,
              hint: 'set task.data.type to "csv" (or "tsv"), or convert the file to one JSON object per line',
            },
          );
        }
        return rows.fail(i + 1, `invalid JSON: ${(err as Error).message}`);
      } finally {
        first = false;
      }
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
        return rows.fail(i + 1, 'each line must be a JSON object');
      const rec = obj as Record<string, unknown>;
      rows.add(i + 1, rec[tf], rec[lf]);
    });
  return rows.result();
}

/** Options of {@link loadCsv}. */
export interface CsvOptions extends LoaderOptions {
  /** Field delimiter; default `\t` for `.tsv`, `,` otherwise. */
  delimiter?: string;
  /** First row names the columns (default true). Without a header, column 0 is the text and 1 the label. */
  header?: boolean;
}

/** Split CSV text into records with RFC 4180 quoting; each record carries the line it starts on. */
export function parseCsv(text: string, delimiter: string, file: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let line = 1;
  let startLine = 1;
  let quotedStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') {
      inQuotes = true;
      quotedStart = line;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      if (!(fields.length === 1 && fields[0] === '')) out.push({ line: startLine, fields });
      fields = [];
      field = '';
      line++;
      startLine = line;
    } else {
      field += c;
    }
  }
  if (inQuotes)
    throw new DistilleryError('DATA_INVALID', 'unterminated quoted field', { where: `${file}:${quotedStart}` });
  if (field !== '' || fields.length > 0) {
    fields.push(field);
    out.push({ line: startLine, fields });
  }
  return out;
}

/** CSV or TSV with a header row naming `text` and `label` columns (or positional columns without header). */
export function loadCsv(file: string, opts: CsvOptions = {}): LoadedDataset {
  const delimiter = opts.delimiter ?? (extname(file).toLowerCase() === '.tsv' ? '\t' : ',');
  const records = parseCsv(readTextFile(file, opts.encoding), delimiter, file);
  const rows = new RowCollector(file, opts);
  const tf = opts.textField ?? 'text';
  const lf = opts.labelField ?? 'label';
  let ti = 0;
  let li = 1;
  let body = records;
  if (opts.header ?? true) {
    const head = records[0];
    if (!head) return rows.result();
    ti = head.fields.indexOf(tf);
    li = head.fields.indexOf(lf);
    if (ti < 0)
      throw new DistilleryError('DATA_INVALID', `no "${tf}" column in the header (${head.fields.join(', ')})`, {
        where: `${file}:1`,
        hint: 'set textField to the text column name',
      });
    if (li < 0 && !opts.labelOptional)
      throw new DistilleryError('DATA_INVALID', `no "${lf}" column in the header (${head.fields.join(', ')})`, {
        where: `${file}:1`,
        hint: 'set labelField, or labelOptional: true',
      });
    body = records.slice(1);
    const width = head.fields.length;
    for (const r of body) {
      if (r.fields.length !== width)
        rows.fail(
          r.line,
          `expected ${width} fields, found ${r.fields.length}`,
          delimiter === ',' ? 'quote fields that contain commas' : undefined,
        );
      else rows.add(r.line, r.fields[ti], li >= 0 ? r.fields[li] : undefined);
    }
    return rows.result();
  }
  for (const r of body) {
    if (r.fields.length < (opts.labelOptional ? 1 : 2))
      rows.fail(
        r.line,
        `expected text${opts.labelOptional ? '' : ' and label'} columns, found ${r.fields.length} field(s)`,
      );
    else rows.add(r.line, r.fields[ti], r.fields[li]);
  }
  return rows.result();
}

/**
 * JSON: an array of `[text, label]` pairs or `{text, label}` objects, or an object whose `key`
 * option selects such an array (e.g. `"train"`). Rows are located as `file:line` where the row starts.
 */
export function loadJson(file: string, opts: LoaderOptions & { key?: string } = {}): LoadedDataset {
  const text = readTextFile(file, opts.encoding);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new DistilleryError('DATA_INVALID', `invalid JSON: ${(err as Error).message}`, { where: file });
  }
  if (opts.key !== undefined) {
    if (data === null || typeof data !== 'object' || !(opts.key in data)) {
      throw new DistilleryError('DATA_INVALID', `no key "${opts.key}" at the top level`, {
        where: file,
        hint: data && typeof data === 'object' ? `keys: ${Object.keys(data).join(', ')}` : undefined,
      });
    }
    data = (data as Record<string, unknown>)[opts.key];
  }
  if (!Array.isArray(data))
    throw new DistilleryError('DATA_INVALID', 'expected a JSON array of rows', {
      where: file,
      hint: 'pass key to pick an array inside an object',
    });
  const lines = opts.key === undefined ? rowStartLines(text, data.length) : undefined;
  return addJsonRows(file, data, opts, (i) => (lines ? lines[i]! : `[${opts.key}][${i}]`));
}

/** Add rows (`[text, label]` or objects) of a JSON array; `loc(i)` gives each row's location. */
export function addJsonRows(
  file: string,
  data: unknown[],
  opts: LoaderOptions,
  loc: (i: number) => number | string,
  rows = new RowCollector(file, opts),
): LoadedDataset {
  const tf = opts.textField ?? 'text';
  const lf = opts.labelField ?? 'label';
  data.forEach((row, i) => {
    if (Array.isArray(row)) rows.add(loc(i), row[0], row[1]);
    else if (row !== null && typeof row === 'object')
      rows.add(loc(i), (row as Record<string, unknown>)[tf], (row as Record<string, unknown>)[lf]);
    else rows.fail(loc(i), `row must be [text, label] or an object, got ${JSON.stringify(row)}`);
  });
  return rows.result();
}

/**
 * Line numbers where the elements of a top-level JSON array start (a small scanner that skips strings),
 * so JSON errors can name `file:line` like the other formats.
 */
export function rowStartLines(text: string, n: number): number[] {
  const starts: number[] = [];
  let depth = 0;
  let line = 1;
  let inStr = false;
  let expectElem = false;
  for (let i = 0; i < text.length && starts.length < n; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (depth === 1 && expectElem && c !== ']') {
      starts.push(line);
      expectElem = false;
    }
    if (c === '"') inStr = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectElem = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElem = true;
  }
  return starts;
}

const FORMATS: Record<string, 'jsonl' | 'csv' | 'tsv' | 'json'> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.json': 'json',
};

/**
 * Load by extension: `.jsonl`/`.ndjson`, `.csv`, `.tsv`, `.json`. With `format` (the config's
 * `task.data.type`), a file whose extension names another format is refused instead of being read
 * as that other format; a file with another extension (`.txt`) is read as `format`.
 */
export function loadDataset(
  file: string,
  opts: CsvOptions & { key?: string; format?: 'jsonl' | 'csv' | 'tsv' | 'json' } = {},
): LoadedDataset {
  const ext = extname(file).toLowerCase();
  const byExt = FORMATS[ext];
  if (
    opts.format &&
    byExt &&
    byExt !== opts.format &&
    !(opts.format === 'csv' && byExt === 'tsv') &&
    !(opts.format === 'tsv' && byExt === 'csv')
  ) {
    throw new DistilleryError('DATA_FORMAT', `the data type is "${opts.format}" but the file is a "${ext}" file`, {
      where: file,
      hint: `set task.data.type to "${byExt}", or point it at a .${opts.format} file`,
    });
  }
  const format = byExt ?? opts.format;
  if (format === 'jsonl') return loadJsonl(file, opts);
  if (format === 'csv' || format === 'tsv')
    return loadCsv(file, { ...opts, delimiter: opts.delimiter ?? (format === 'tsv' ? '\t' : ',') });
  if (format === 'json') return loadJson(file, opts);
  throw new DistilleryError('DATA_FORMAT', `unknown data file type "${ext}"`, {
    where: file,
    hint: 'use .jsonl, .csv, .tsv or .json',
  });
}
