import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DistilleryError } from '@distillery/core';
import { buildLabelSpace } from './label-space.js';
import { loadJsonl } from './loaders/text.loaders.js';

const dir = mkdtempSync(join(tmpdir(), 'labels-'));
const jsonl = (name: string, rows: [string, string][]) => {
  const p = join(dir, name);
  writeFileSync(p, rows.map(([text, label]) => JSON.stringify({ text, label })).join('\n') + '\n');
  return loadJsonl(p).examples;
};
function errorOf(fn: () => unknown): DistilleryError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DistilleryError);
    return e as DistilleryError;
  }
  throw new Error('expected an error');
}

describe('buildLabelSpace', () => {
  const teacher = ['neg', 'pos', 'neutral'];
  it("with a teacher, ids are the teacher's whatever the data order", () => {
    const train = jsonl('a.jsonl', [
      ['x', 'pos'],
      ['y', 'neutral'],
      ['z', 'pos'],
    ]);
    const s = buildLabelSpace(train, [], { teacherLabels: teacher });
    expect(s.labels.names).toEqual(teacher);
    expect(s.labels.id('neutral')).toBe(2);
    expect(s.teacherSize).toBe(3);
  });
  it('an unknown label names the label and file:line of its first use; extendLabels appends it', () => {
    const train = jsonl('b.jsonl', [
      ['x', 'pos'],
      ['y', 'mixed'],
      ['z', 'mixed'],
    ]);
    const e = errorOf(() => buildLabelSpace(train, [], { teacherLabels: teacher }));
    expect(e.code).toBe('UNKNOWN_LABEL');
    expect(e.where).toBe(join(dir, 'b.jsonl:2'));
    expect(e.message).toMatch(/label "mixed" is not one of the teacher's 3 labels/);
    const s = buildLabelSpace(train, [], { teacherLabels: teacher, extendLabels: true });
    expect(s.labels.names).toEqual([...teacher, 'mixed']);
    expect(s.teacherSize).toBe(3);
    expect(s.warnings[0]).toMatch(/1 label\(s\) added/);
  });
  it('without a teacher: sorted training labels; unseen test labels are an error or counted', () => {
    const train = jsonl('c.jsonl', [
      ['x', 'b'],
      ['y', 'a'],
    ]);
    const test = jsonl('d.jsonl', [
      ['x', 'a'],
      ['y', 'c'],
      ['z', 'c'],
    ]);
    expect(buildLabelSpace(train, []).labels.names).toEqual(['a', 'b']);
    const e = errorOf(() => buildLabelSpace(train, test));
    expect(e.code).toBe('UNSEEN_TEST_LABEL');
    expect(e.where).toBe(join(dir, 'd.jsonl:2'));
    const s = buildLabelSpace(train, test, { unseenTestLabels: 'warn' });
    expect(s.test).toHaveLength(1);
    expect(s.droppedTest).toEqual({ count: 2, labels: ['c'] });
  });
  it('a single label is a clear error, not tfjs "oneHot depth"', () => {
    const train = jsonl('e.jsonl', [
      ['x', 'only'],
      ['y', 'only'],
    ]);
    const e = errorOf(() => buildLabelSpace(train, [], { source: 'e.jsonl' }));
    expect(e.code).toBe('LABELS_TOO_FEW');
    expect(e.message).toMatch(/a single label "only"; a classifier needs at least 2/);
  });
});

describe('buildLabelSpace with a dataset-defined label set', () => {
  it('ids follow the dataset; test labels inside it are accepted even if the training subset lacks them', () => {
    const train = jsonl('f.jsonl', [
      ['x', 'b'],
      ['y', 'c'],
    ]);
    const test = jsonl('g.jsonl', [['x', 'a']]);
    const s = buildLabelSpace(train, test, { datasetLabels: ['a', 'b', 'c'] });
    expect(s.labels.names).toEqual(['a', 'b', 'c']);
    expect(s.test).toHaveLength(1);
  });
});
