/**
 * CLINC150 ("plus" split, `data_oos_plus.json`): 150 intents + `oos`.
 * @packageDocumentation
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DistilleryError } from '@distillery/core';
import type { Example } from '../types.js';
import { LabelMap } from '../labels.js';
import { readTextFile, addJsonRows } from './text.loaders.js';
import { RowCollector } from './rows.js';

/** The three CLINC150 splits and the label map (151 labels, ids in alphabetical order, `oos` = 80). */
export interface Clinc150 {
  /** `train` + `oos_train` (15,250 rows). */
  train: Example[];
  /** `val` + `oos_val` (3,100 rows). */
  validation: Example[];
  /** `test` + `oos_test` (5,500 rows). */
  test: Example[];
  labels: LabelMap;
}

const SPLITS = { train: ['train', 'oos_train'], validation: ['val', 'oos_val'], test: ['test', 'oos_test'] } as const;

/**
 * Load CLINC150 from a folder holding `data_oos_plus.json` (or the file itself). Label ids are the
 * sorted label names (Python `sorted`), matching the teacher's `labels.json`.
 */
export function loadClinc150(dirOrFile: string): Clinc150 {
  const file =
    existsSync(dirOrFile) && statSync(dirOrFile).isDirectory() ? join(dirOrFile, 'data_oos_plus.json') : dirOrFile;
  const text = readTextFile(file);
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new DistilleryError('DATA_INVALID', `invalid JSON: ${(err as Error).message}`, { where: file });
  }
  const split = (keys: readonly string[]): Example[] => {
    const rows = new RowCollector(file, {});
    for (const key of keys) {
      const arr = data[key];
      if (!Array.isArray(arr)) {
        throw new DistilleryError('DATA_INVALID', `key "${key}" is missing or not an array`, {
          where: file,
          hint: 'expected data_oos_plus.json with train/val/test/oos_* keys',
        });
      }
      addJsonRows(file, arr, {}, (i) => `[${key}][${i}]`, rows);
    }
    return rows.result().examples;
  };
  const train = split(SPLITS.train);
  const validation = split(SPLITS.validation);
  const test = split(SPLITS.test);
  const labels = LabelMap.fromLabels([...train, ...validation, ...test].map((e) => e.label!));
  return { train, validation, test, labels };
}
