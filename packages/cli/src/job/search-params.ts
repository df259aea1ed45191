/**
 * How `distillery search` parameter names map onto a job config. Short names cover the usual
 * distillation knobs; any dotted config path (`training.optimizer.weightDecay`) works too.
 */
import { DistilleryError, nearest } from '@distillery/core';
import type { ParamSpec, Params, SearchSpace } from '@distillery/search';

/** A short parameter name: its config path, type, and the keys it replaces. */
interface Mapping {
  path: string[];
  type: ParamSpec['type'];
  log?: boolean;
  /** Sibling keys removed when this one is set (numEpochs and numSteps exclude each other). */
  removes?: string[];
}

/**
 * Short names: `alpha` = `distillation.hardLabelWeight` (the weight of the hard-label loss; the KD
 * term keeps `kdLossWeight`), `temperature` = `distillation.temperature`, `kdLossWeight`,
 * `numEpochs` / `numSteps` = the training budget, `lr` = `training.optimizer.lr` (log-uniform),
 * `weightDecay`, `batchSize` = `task.batchSize`, `maxGradNorm`.
 */
export const SEARCH_PARAMS: Record<string, Mapping> = {
  alpha: { path: ['distillation', 'hardLabelWeight'], type: 'float' },
  temperature: { path: ['distillation', 'temperature'], type: 'float' },
  kdLossWeight: { path: ['distillation', 'kdLossWeight'], type: 'float' },
  numEpochs: { path: ['training', 'numEpochs'], type: 'int', removes: ['numSteps', 'num_steps'] },
  numSteps: { path: ['training', 'numSteps'], type: 'int', removes: ['numEpochs', 'num_epochs'] },
  lr: { path: ['training', 'optimizer', 'lr'], type: 'float', log: true },
  weightDecay: { path: ['training', 'optimizer', 'weightDecay'], type: 'float' },
  batchSize: { path: ['task', 'batchSize'], type: 'int' },
  maxGradNorm: { path: ['training', 'maxGradNorm'], type: 'float' },
};

/** Known types for {@link parseSpace} (so `alpha=0..1` is a float). */
export function searchParamTypes(): Record<string, { type: ParamSpec['type']; log?: boolean }> {
  return Object.fromEntries(Object.entries(SEARCH_PARAMS).map(([k, m]) => [k, { type: m.type, log: m.log }]));
}

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function mappingOf(name: string): Mapping {
  const m = SEARCH_PARAMS[name];
  if (m) return m;
  if (name.includes('.')) return { path: name.split('.'), type: 'float' };
  const guess = nearest(name, Object.keys(SEARCH_PARAMS));
  throw new DistilleryError('SEARCH_SPACE', `unknown search parameter "${name}"`, {
    where: `--space ${name}`,
    hint: `${guess ? `did you mean "${guess}"? ` : ''}short names: ${Object.keys(SEARCH_PARAMS).join(', ')}; or a dotted config path such as training.optimizer.weightDecay`,
  });
}

/** Check every name of a space before the first trial. */
export function checkSearchSpace(space: SearchSpace): void {
  for (const n of Object.keys(space)) mappingOf(n);
}

/**
 * A deep copy of a config (raw JSON or parsed) with the parameters applied. Where the config
 * spells a key in TextBrewer's snake_case (`hard_label_weight`), that key is set instead.
 */
export function applySearchParams<T extends object>(config: T, params: Params): T {
  const out = structuredClone(config) as Record<string, unknown>;
  for (const [name, value] of Object.entries(params)) {
    const m = mappingOf(name);
    let node = out;
    for (const key of m.path.slice(0, -1)) {
      const k = key in node ? key : snake(key) in node ? snake(key) : key;
      if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    const last = m.path.at(-1)!;
    for (const r of m.removes ?? []) delete node[r];
    const key = !(last in node) && snake(last) in node ? snake(last) : last;
    node[key] = value;
  }
  return out as T;
}

/**
 * The value a search maximises from a run summary: a validation accuracy when the summary has one
 * (`student.validationAccuracy`, `student.validation.accuracy`, any `student.val…acc…` key, or the
 * accuracy of the checkpoint the run selected on validation, `student.selected`), else the
 * student's evaluation accuracy.
 */
export function objectiveOf(summary: { student?: object }): { value: number; metric: string } {
  const s = (summary.student ?? {}) as Record<string, unknown>;
  const v = s.validation as Record<string, unknown> | undefined;
  if (v && typeof v.accuracy === 'number') return { value: v.accuracy, metric: 'student.validation.accuracy' };
  for (const [k, x] of Object.entries(s))
    if (typeof x === 'number' && /^val(idation)?_?acc/i.test(k)) return { value: x, metric: `student.${k}` };
  // A run that kept its best checkpoint on validation reports that accuracy: rank on it, never on test.
  const sel = s.selected as { metric?: string; value?: unknown; split?: string } | undefined;
  if (sel?.split === 'validation' && sel.metric === 'accuracy' && typeof sel.value === 'number')
    return { value: sel.value, metric: 'student.selected.value' };
  if (typeof s.accuracy === 'number') return { value: s.accuracy, metric: 'student.accuracy' };
  throw new DistilleryError('SEARCH_OBJECTIVE', 'the run summary has no student accuracy', {
    where: 'summary.json',
    hint: 'search runs `distill` jobs: the config needs a student',
  });
}

/** The intermediate value of an evaluation: a validation accuracy if reported, else `accuracy`. */
export function intermediateOf(metrics: Record<string, number>): number | undefined {
  const k =
    Object.keys(metrics).find((x) => /^val(idation)?_?acc/i.test(x)) ??
    ('accuracy' in metrics ? 'accuracy' : undefined);
  return k === undefined ? undefined : metrics[k];
}
