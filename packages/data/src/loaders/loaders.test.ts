import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DistilleryError, sharedPath, SHARED_SKIP_MESSAGE } from '@distillery/core';
import { loadCsv, loadDataset, loadJson, loadJsonl } from './text.loaders.js';
import { loadClinc150 } from './clinc150.loader.js';
import { LabelMap } from '../labels.js';
import { BatchIterator, collate, makeBatches, type EncodedExample } from '../batching.js';
import { shuffled } from '../rng.js';

const dir = mkdtempSync(join(tmpdir(), 'data-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function errorOf(fn: () => unknown): DistilleryError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DistilleryError);
    return e as DistilleryError;
  }
  throw new Error('expected an error');
}

describe('file loaders', () => {
  it('JSONL: loads rows, names file:line on bad rows, drops only when asked (counted)', () => {
    const p = file(
      'a.jsonl',
      '{"text":"hi","label":"greeting"}\n\n{"text":"bye","label":"goodbye"}\n{"text":5,"label":"x"}\nnot json\n',
    );
    const e = errorOf(() => loadJsonl(p));
    expect(e.code).toBe('DATA_INVALID');
    expect(e.where).toBe(`${p}:4`);
    expect(e.message).toMatch(/field "text" must be a string/);
    const d = loadJsonl(p, { dropInvalid: true });
    expect(d.examples).toEqual([
      { text: 'hi', label: 'greeting' },
      { text: 'bye', label: 'goodbye' },
    ]);
    expect(d.dropped).toBe(2);
    expect(d.droppedReasons[1]).toMatch(/a\.jsonl:5: invalid JSON/);
    expect(errorOf(() => loadJsonl(file('b.jsonl', '{"text":"x"}\n'))).message).toMatch(/missing label/);
    expect(loadJsonl(file('c.jsonl', '{"text":"x"}\n'), { labelOptional: true }).examples).toEqual([{ text: 'x' }]);
  });

  it('CSV/TSV: quoted fields with commas, quotes and newlines; errors name the line', () => {
    const p = file('a.csv', 'label,text\r\nq,"hello, ""world""\nsecond line"\nb,plain\nc,too,many\n');
    const e = errorOf(() => loadCsv(p));
    expect(e.where).toBe(`${p}:5`);
    expect(e.message).toMatch(/expected 2 fields, found 3/);
    const d = loadCsv(p, { dropInvalid: true });
    expect(d.examples).toEqual([
      { text: 'hello, "world"\nsecond line', label: 'q' },
      { text: 'plain', label: 'b' },
    ]);
    expect(d.dropped).toBe(1);
    const t = loadDataset(file('a.tsv', 'text\tlabel\nx, y\tl1\n'));
    expect(t.examples).toEqual([{ text: 'x, y', label: 'l1' }]);
    expect(loadCsv(file('n.csv', 'some text,lab\n'), { header: false }).examples).toEqual([
      { text: 'some text', label: 'lab' },
    ]);
    expect(errorOf(() => loadCsv(file('h.csv', 'sentence,label\n'))).message).toMatch(/no "text" column/);
    expect(errorOf(() => loadCsv(file('u.csv', 'text,label\n"open,x\n'))).where).toBe(`${dir}/u.csv:2`);
  });

  it('JSON: pairs or objects, rows located by line', () => {
    const p = file('a.json', '[\n  ["hi", "greeting"],\n  {"text": "bye", "label": "goodbye"},\n  ["", "x"]\n]\n');
    expect(errorOf(() => loadJson(p)).where).toBe(`${p}:4`);
    expect(loadJson(p, { dropInvalid: true }).examples).toHaveLength(2);
    const k = file('k.json', '{"train": [["a", "b"]]}');
    expect(loadJson(k, { key: 'train' }).examples).toEqual([{ text: 'a', label: 'b' }]);
    expect(errorOf(() => loadJson(k, { key: 'test' })).hint).toMatch(/keys: train/);
    expect(errorOf(() => loadDataset(file('x.xml', ''))).code).toBe('DATA_FORMAT');
    expect(errorOf(() => loadJsonl(join(dir, 'missing.jsonl'))).code).toBe('IO_READ_FAILED');
  });

  it('LabelMap: sorted ids, unknown labels suggest the nearest', () => {
    const m = LabelMap.fromLabels(['yes', 'no', 'oos', 'no']);
    expect(m.names).toEqual(['no', 'oos', 'yes']);
    expect(m.id('oos')).toBe(1);
    expect(errorOf(() => m.id('yse', 'f.jsonl:3')).message).toMatch(
      /f\.jsonl:3: unknown label "yse"[\s\S]*did you mean "yes"/,
    );
    expect(LabelMap.fromId2Label(m.toHfConfig().id2label).names).toEqual(m.names);
  });
});

describe('batching', () => {
  const items: EncodedExample[] = Array.from({ length: 10 }, (_, i) => ({
    ids: Array.from({ length: 2 + (i % 4) }, (_, j) => j + 1),
    tokens: [],
    typeIds: new Array(2 + (i % 4)).fill(0),
    label: i,
  }));
  it('seeded shuffling is deterministic and a permutation', () => {
    expect(shuffled([1, 2, 3, 4, 5], 7)).toEqual(shuffled([1, 2, 3, 4, 5], 7));
    expect([...shuffled([1, 2, 3, 4, 5], 7)].sort()).toEqual([1, 2, 3, 4, 5]);
    const e0 = makeBatches(items, { batchSize: 4, shuffle: true, seed: 1 }, 0);
    const e1 = makeBatches(items, { batchSize: 4, shuffle: true, seed: 1 }, 1);
    expect(e0.map((b) => Array.from(b.labels!))).not.toEqual(e1.map((b) => Array.from(b.labels!)));
    expect(e0.flatMap((b) => Array.from(b.labels!)).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
  it('pads each batch to its own longest row; bucketing reduces padding; dropLast', () => {
    const b = collate([items[0]!, items[3]!]);
    expect(b.seqLen).toBe(5);
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 0, 0, 0, 1, 1, 1, 1, 1]);
    const pad = (bs: ReturnType<typeof makeBatches>) => bs.reduce((s, x) => s + x.batchSize * x.seqLen, 0);
    const plain = makeBatches(items, { batchSize: 2, shuffle: true, seed: 3 });
    const bucketed = makeBatches(items, { batchSize: 2, shuffle: true, seed: 3, bucketPools: 5 });
    expect(pad(bucketed)).toBeLessThan(pad(plain));
    const it = new BatchIterator(items, { batchSize: 4, dropLast: true });
    expect(it.length).toBe(2);
    expect([...it.epoch(0)].map((x) => x.batchSize)).toEqual([4, 4]);
    expect(() => makeBatches(items, { batchSize: 0 })).toThrow(/batchSize/);
  });
});

const clinc = sharedPath('data', 'clinc150');
const teacher = sharedPath('models', 'clinc-bert-teacher');
describe.skipIf(!clinc || !teacher)(`CLINC150 (${clinc ? 'shared present' : SHARED_SKIP_MESSAGE})`, () => {
  it('splits, sizes and label ids match the teacher labels.json', () => {
    const d = loadClinc150(clinc!);
    expect([d.train.length, d.validation.length, d.test.length]).toEqual([15250, 3100, 5500]);
    expect(d.labels.size).toBe(151);
    expect(d.labels.names).toEqual(JSON.parse(readFileSync(join(teacher!, 'labels.json'), 'utf8')));
    expect(d.labels.id('oos')).toBe(80);
    expect(d.test.filter((e) => e.label === 'oos')).toHaveLength(1000);
  });
  it('bad rows name the file and the split index', () => {
    const p = file(
      'data_oos_plus.json',
      JSON.stringify({
        train: [['a', 'x']],
        oos_train: [['b', 'oos'], ['c']],
        val: [],
        oos_val: [],
        test: [],
        oos_test: [],
      }),
    );
    expect(errorOf(() => loadClinc150(dir)).where).toBe(`${p}:[oos_train][1]`);
  });
});

describe('encodings and formats are checked', () => {
  it('invalid UTF-8 is an error naming file:line, unless encoding is set', () => {
    const p = join(dir, 'latin.jsonl');
    writeFileSync(
      p,
      Buffer.concat([
        Buffer.from('{"text":"ok","label":"a"}\n{"text":"caf'),
        Buffer.from([0xe9]),
        Buffer.from('","label":"b"}\n'),
      ]),
    );
    const e = errorOf(() => loadJsonl(p));
    expect(e.code).toBe('DATA_ENCODING');
    expect(e.where).toBe(`${p}:2`);
    expect(e.message).toMatch(/not valid UTF-8 \(first at byte \d+: 0xe9\)/);
    expect(loadJsonl(p, { encoding: 'latin1' }).examples[1]!.text).toBe('café');
    expect(errorOf(() => loadJsonl(p, { encoding: 'klingon' })).message).toMatch(/unknown encoding "klingon"/);
  });
  it('a jsonl data type pointing at a CSV is refused', () => {
    const p = file('rows.csv', 'text,label\nhi,a\n');
    expect(errorOf(() => loadDataset(p, { format: 'jsonl' })).message).toMatch(
      /the data type is "jsonl" but the file is a "\.csv" file/,
    );
    const q = file('rows.jsonl', 'text,label\nhi,a\n');
    const e = errorOf(() => loadDataset(q, { format: 'jsonl' }));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toMatch(/looks like a CSV\/TSV header/);
    expect(loadDataset(file('rows.txt', 'text,label\nhi,a\n'), { format: 'csv' }).examples).toEqual([
      { text: 'hi', label: 'a' },
    ]);
  });
});
