/**
 * One label space per job, checked. With a pretrained teacher the label ids are the teacher's
 * (`config.json` `id2label`), because its logits are indexed by them; otherwise they are the sorted
 * training labels. Every data label is checked against that space, so teacher logits and hard labels
 * can never silently live in different spaces.
 * @packageDocumentation
 */
import { DistilleryError, suggest } from '@distillery/core';
import type { Example } from './types.js';
import { LabelMap } from './labels.js';
import { whereOf } from './loaders/rows.js';

/** Options of {@link buildLabelSpace}. */
export interface LabelSpaceOptions {
  /** Label names by id of a pretrained teacher (its `id2label`). Data labels are mapped onto these ids. */
  teacherLabels?: readonly string[];
  /**
   * Training labels the teacher does not know get new ids after the teacher's (sorted), and the
   * student gets one logit per label; the teacher's logits only cover its own labels, so the new
   * labels are learnt from the hard-label loss only.
   * @default false (an unknown label is an error naming it and its first `file:line`)
   */
  extendLabels?: boolean;
  /**
   * Test labels outside the label space (unknown to the teacher, or never seen in training):
   * `"error"`, or `"warn"`: those test examples are left out of the evaluation and counted.
   * @default "error"
   */
  unseenTestLabels?: 'error' | 'warn';
  /**
   * The closed label set of a dataset that defines one (CLINC150's 151 intents, ham/spam): without a
   * teacher, ids follow it (instead of the labels seen in the training subset), and test labels
   * inside it are accepted even when a subset's training part lacks them.
   */
  datasetLabels?: readonly string[];
  /** Where the labels came from, for messages (e.g. the data file or `task.data`). */
  source?: string;
}

/** The checked label space of a job. */
export interface LabelSpace {
  labels: LabelMap;
  train: Example[];
  /** The test examples, without those left out by `unseenTestLabels: "warn"`. */
  test: Example[];
  /** Labels added after the teacher's (with `extendLabels`); empty otherwise. */
  extended: string[];
  /** Number of labels the teacher's logits cover (the whole space without a teacher). */
  teacherSize: number;
  /** Test examples left out (with `unseenTestLabels: "warn"`), and their labels. */
  droppedTest: { count: number; labels: string[] };
  /** Human-readable warnings (already counted), for the job log. */
  warnings: string[];
}

/** First use of every label, in data order: label → `file:line` (or `train[i]`). */
function firstUses(examples: readonly Example[], split: string): Map<string, string> {
  const out = new Map<string, string>();
  examples.forEach((e, i) => {
    if (e.label !== undefined && !out.has(e.label)) out.set(e.label, whereOf(e) ?? `${split}[${i}]`);
  });
  return out;
}

function listed(names: readonly string[], max = 8): string {
  const shown = names
    .slice(0, max)
    .map((n) => JSON.stringify(n))
    .join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/**
 * Build and check the label space of a job from its train/test examples (and the teacher's labels).
 * Throws `UNKNOWN_LABEL` (a data label the teacher does not know), `UNSEEN_TEST_LABEL` or
 * `LABELS_TOO_FEW` (fewer than two labels: a classifier cannot be trained).
 */
export function buildLabelSpace(
  train: readonly Example[],
  test: readonly Example[],
  opts: LabelSpaceOptions = {},
): LabelSpace {
  const trainUses = firstUses(train, 'train');
  const warnings: string[] = [];
  let names: string[];
  let extended: string[] = [];
  const teacher = opts.teacherLabels;
  if (teacher) {
    const known = new Set(teacher);
    const unknown = [...trainUses.keys()].filter((l) => !known.has(l));
    if (unknown.length && !opts.extendLabels) {
      const first = unknown[0]!;
      throw new DistilleryError(
        'UNKNOWN_LABEL',
        `label "${first}" is not one of the teacher's ${teacher.length} labels${unknown.length > 1 ? ` (nor are ${listed(unknown.slice(1))})` : ''}`,
        {
          where: trainUses.get(first),
          hint: `${suggest(first, teacher.length <= 20 ? [...teacher] : teacher.filter((n) => n[0] === first[0]).slice(0, 20))}; data labels must be the teacher's id2label names, or set task.data.extendLabels: true to add new labels (learnt from hard labels only)`,
        },
      );
    }
    extended = [...unknown].sort();
    names = [...teacher, ...extended];
    if (extended.length)
      warnings.push(
        `${extended.length} label(s) added after the teacher's ${teacher.length}: ${listed(extended)} (learnt from hard labels only)`,
      );
  } else if (opts.datasetLabels) {
    names = [...opts.datasetLabels];
    const known = new Set(names);
    const unknown = [...trainUses.keys()].find((l) => !known.has(l));
    if (unknown !== undefined)
      throw new DistilleryError(
        'UNKNOWN_LABEL',
        `label "${unknown}" is not one of the dataset's ${names.length} labels`,
        { where: trainUses.get(unknown) },
      );
  } else {
    names = [...trainUses.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  if (names.length < 2) {
    throw new DistilleryError(
      'LABELS_TOO_FEW',
      `the training data has ${names.length === 0 ? 'no labels' : `a single label "${names[0]}"`}; a classifier needs at least 2`,
      {
        where: opts.source,
        hint: 'check labelField (the label column) and that the file holds every class',
      },
    );
  }
  const labels = new LabelMap(names);
  // Test labels must be in the space (the teacher's, or those seen in training).
  const space = new Set(teacher ? [...teacher, ...extended] : names);
  const unseen = [...firstUses(test, 'test')].filter(([l]) => !space.has(l));
  let kept = [...test];
  const droppedTest = { count: 0, labels: unseen.map(([l]) => l) };
  if (unseen.length) {
    const [first, where] = unseen[0]!;
    const what = teacher
      ? `unknown to the teacher${extended.length ? ' and unseen in training' : ''}`
      : 'never seen in training';
    if ((opts.unseenTestLabels ?? 'error') === 'error') {
      throw new DistilleryError(
        'UNSEEN_TEST_LABEL',
        `test label "${first}" is ${what}${unseen.length > 1 ? ` (so are ${listed(unseen.slice(1).map(([l]) => l))})` : ''}`,
        {
          where,
          hint: 'the model can never predict it; fix the test file, or set task.data.unseenTestLabels: "warn" to leave such examples out of the evaluation (counted)',
        },
      );
    }
    kept = test.filter((e) => e.label === undefined || space.has(e.label));
    droppedTest.count = test.length - kept.length;
    warnings.push(
      `${droppedTest.count} test example(s) left out of the evaluation: their label is ${what} (${listed(droppedTest.labels)}; first at ${where})`,
    );
  }
  return {
    labels,
    train: [...train],
    test: kept,
    extended,
    teacherSize: teacher ? teacher.length : names.length,
    droppedTest,
    warnings,
  };
}
