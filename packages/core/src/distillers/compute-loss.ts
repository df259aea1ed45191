/**
 * The loss pipeline of the distillers, in one place. Order (TextBrewer `compute_loss`, with its
 * defects fixed where noted):
 *
 * 1. **normalise**: logits, logits masks, labels and losses may each be a tensor or a list.
 * 2. **probability shift** (optional): per head, swap the teacher arg-max with the gold label —
 *    done *before* masking so labels and logits rows stay aligned (TextBrewer shifts after masking).
 * 3. **mask logits**: each side's 3-D logits keep the rows its own `logitsMask` marks; a single mask
 *    serves every head (TextBrewer crashes there).
 * 4. **temperature** per head from the temperature scheduler.
 * 5. **KD**: reduction = *sum over heads* of the KD-loss plugin; weighted by kdLossWeight.
 * 6. **intermediate matches**: reduction = *weighted sum* of match-loss plugins on the student
 *    feature (after projection) and the teacher feature; each side passes its own inputs mask.
 * 7. **hard labels**: reduction = *sum of means* of the adaptor's `losses`; weighted by hardLabelWeight.
 *
 * Unweighted terms are reported as `unweighted_kd_loss`, `unweighted_<feature>_<loss>_<S>_<T>`
 * and `unweighted_hard_label_loss` (TextBrewer's keys).
 */
import * as tf from '@tensorflow/tfjs-core';
import { schedulerSpec, type DistillationConfig, type IntermediateMatch } from '../config/schema.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { Projection, StepInfo, TemperatureFn } from '../plugin/types.js';
import type { AdaptorOutput, TensorOrList } from '../model/types.js';
import { probabilityShift, selectLogitsWithMask } from '../tensor/index.js';
import { DistilleryError } from '../util/errors.js';

/** What the pipeline needs besides the adaptor outputs. */
export interface LossContext {
  readonly config: DistillationConfig;
  readonly registry: PluginRegistry;
  /** Weights in effect (after weight schedulers). Default: the configured ones. */
  readonly weights?: { kdLossWeight: number; hardLabelWeight: number };
  /** Projection per match index (undefined where a match has none). */
  readonly projections?: readonly (Projection | undefined)[];
  /** `textbrewer`: every match gets the student's inputs mask (TextBrewer); default: each side its own. */
  readonly compat?: 'distillery' | 'textbrewer';
  readonly step?: StepInfo;
  /** Pre-built temperature function (else built from the config). */
  readonly temperatureFn?: TemperatureFn;
}

/** A scalar total and the unweighted terms (tensors, owned by the caller's tidy). */
export interface LossResult {
  total: tf.Scalar;
  losses: Record<string, tf.Scalar>;
}

/** Make a tensor-or-list a list. */
export function asList<T extends tf.Tensor>(x: TensorOrList<T> | undefined): T[] {
  if (x === undefined) return [];
  return Array.isArray(x) ? [...(x as readonly T[])] : [x as T];
}

/** Build the temperature function of a config (`"none"` = constant base temperature). */
export function makeTemperatureFn(
  config: DistillationConfig,
  registry: PluginRegistry,
  step?: StepInfo,
): TemperatureFn {
  const spec = schedulerSpec(config.temperatureScheduler);
  if (spec.name === 'none') return (_s, _t, base) => base;
  const plugin = registry.get('temperature-scheduler', spec.name, 'distillation.temperatureScheduler');
  const options = { ...spec.options };
  if (spec.args.length) {
    const names = plugin.params ?? [];
    if (spec.args.length > names.length) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        `temperature scheduler "${spec.name}" takes ${names.length} positional argument(s) (${names.join(', ') || 'none'}), got ${spec.args.length}`,
        {
          where: 'distillation.temperatureScheduler',
          hint: `write ["${spec.name}", { ... }] with named options`,
        },
      );
    }
    spec.args.forEach((a, i) => (options[names[i]!] = a));
  }
  return plugin.create(options, registry.context(plugin, step));
}

/** The KD part: Σ over heads of the KD loss (steps 1–5). Returns the unweighted sum. */
export function kdTerm(resultsS: AdaptorOutput, resultsT: AdaptorOutput, lc: LossContext): tf.Scalar {
  const { config, registry } = lc;
  let logitsS = asList(resultsS.logits);
  let logitsT = asList(resultsT.logits);
  if (!logitsS.length || logitsS.length !== logitsT.length) {
    throw new DistilleryError(
      'ADAPTOR_OUTPUT',
      `student has ${logitsS.length} logits head(s), teacher ${logitsT.length}`,
      {
        where: 'adaptor output "logits"',
        hint: 'both adaptors must return the same number of logits heads',
      },
    );
  }
  if (config.probabilityShift) {
    const labels = asList(resultsS.labels);
    if (labels.length !== logitsT.length) {
      throw new DistilleryError(
        'ADAPTOR_OUTPUT',
        `probabilityShift needs one labels tensor per head (got ${labels.length} for ${logitsT.length} heads)`,
        {
          where: 'student adaptor output "labels"',
        },
      );
    }
    logitsT = logitsT.map((l, i) => probabilityShift(l, labels[i]!, `distillation.probabilityShift (head ${i})`));
  }
  const maskS = asList(resultsS.logitsMask);
  const maskT = asList(resultsT.logitsMask);
  if (maskS.length) logitsS = selectLogitsWithMask(logitsS, maskS, 'student adaptor output "logitsMask"');
  if (maskT.length) logitsT = selectLogitsWithMask(logitsT, maskT, 'teacher adaptor output "logitsMask"');
  const kd = registry.get('kd-loss', config.kdLossType, 'distillation.kdLossType');
  const tempFn = lc.temperatureFn ?? makeTemperatureFn(config, registry, lc.step);
  const ctx = registry.context(kd, lc.step);
  const terms = logitsS.map((lS, i) => {
    const lT = logitsT[i]!;
    const temperature = inPlugin(
      `temperature scheduler "${schedulerSpec(config.temperatureScheduler).name}"`,
      'distillation.temperatureScheduler',
      () => tempFn(lS, lT, config.temperature),
    );
    return inPlugin(`kd-loss plugin "${config.kdLossType}"`, 'distillation.kdLossType', () =>
      kd.compute({ logitsS: lS, logitsT: lT, temperature }, ctx),
    );
  });
  return terms.length === 1 ? terms[0]! : tf.addN(terms);
}

/**
 * Run a plugin's code; an unexpected error (not a diagnosed DistilleryError) is re-thrown naming the
 * plugin and the config path that selected it, like Rollup's `PluginDriver.runHook`.
 */
export function inPlugin<T>(what: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DistilleryError) throw e;
    throw new DistilleryError(
      'PLUGIN_FAILED',
      `${what} (selected by ${path}) failed: ${(e as Error)?.message ?? String(e)}`,
      { where: path, cause: e },
    );
  }
}

/** TextBrewer's loss key of a match: `unweighted_hidden_hidden_mse_4_6`, pairs joined by `-`. */
export function matchKey(m: IntermediateMatch): string {
  const l = (x: number | readonly number[]) => (Array.isArray(x) ? x.join('-') : String(x));
  return `unweighted_${m.feature}_${m.loss}_${l(m.layerS)}_${l(m.layerT)}`;
}

function pickFeature(
  out: AdaptorOutput,
  m: IntermediateMatch,
  layer: number | readonly number[],
  side: 'student' | 'teacher',
  where: string,
): tf.Tensor | tf.Tensor[] {
  const list = out[m.feature];
  if (!Array.isArray(list)) {
    throw new DistilleryError('ADAPTOR_OUTPUT', `${side} adaptor output has no list "${m.feature}"`, {
      where,
      hint: `return { ${m.feature}: [tensor per layer] } from the ${side} adaptor`,
    });
  }
  const at = (i: number) => {
    const t = (list as tf.Tensor[])[i];
    if (!t) {
      throw new DistilleryError(
        'ADAPTOR_OUTPUT',
        `${side} "${m.feature}" has ${list.length} entries; layer ${i} does not exist`,
        {
          where,
          hint: `use a layer index in 0..${list.length - 1}`,
        },
      );
    }
    return t;
  };
  return Array.isArray(layer) ? (layer as number[]).map(at) : at(layer as number);
}

/** One intermediate match (step 6), unweighted. */
export function matchTerm(i: number, resultsS: AdaptorOutput, resultsT: AdaptorOutput, lc: LossContext): tf.Scalar {
  const m = lc.config.intermediateMatches[i]!;
  const where = `distillation.intermediateMatches[${i}]`;
  const plugin = lc.registry.get('match-loss', m.loss, `${where}.loss`);
  let stateS = pickFeature(resultsS, m, m.layerS, 'student', where);
  const stateT = pickFeature(resultsT, m, m.layerT, 'teacher', where);
  const proj = lc.projections?.[i];
  if (proj) {
    const s0 = stateS;
    stateS = inPlugin(`projection "${m.proj![0]}"`, `${where}.proj[0]`, () =>
      Array.isArray(s0) ? s0.map((t) => proj.apply(t)) : proj.apply(s0),
    );
  }
  const maskS = resultsS.inputsMask;
  const maskT = lc.compat === 'textbrewer' ? maskS : (resultsT.inputsMask ?? maskS);
  const input = { stateS, stateT, maskS: maskS ?? maskT, maskT, options: m.options, where };
  return inPlugin(`match-loss plugin "${m.loss}"`, `${where}.loss`, () =>
    plugin.compute(input, lc.registry.context(plugin, lc.step)),
  );
}

/** Σ mean(losses_i) of an adaptor output (step 7), or undefined when it has no losses. */
export function hardLabelTerm(results: AdaptorOutput): tf.Scalar | undefined {
  const losses = asList(results.losses);
  if (!losses.length) return undefined;
  const means = losses.map((l) => tf.mean(l));
  return (means.length === 1 ? means[0]! : tf.addN(means)) as tf.Scalar;
}

/** The whole pipeline: weighted total and unweighted terms (BasicDistiller with no matches). */
export function computeDistillationLoss(resultsS: AdaptorOutput, resultsT: AdaptorOutput, lc: LossContext): LossResult {
  const w = lc.weights ?? { kdLossWeight: lc.config.kdLossWeight, hardLabelWeight: lc.config.hardLabelWeight };
  const losses: Record<string, tf.Scalar> = {};
  const kd = kdTerm(resultsS, resultsT, lc);
  losses.unweighted_kd_loss = kd;
  let total = tf.mul<tf.Scalar>(kd, w.kdLossWeight);
  lc.config.intermediateMatches.forEach((m, i) => {
    const t = matchTerm(i, resultsS, resultsT, lc);
    losses[matchKey(m)] = t;
    total = tf.add(total, tf.mul(t, m.weight));
  });
  const hl = hardLabelTerm(resultsS);
  if (hl) {
    losses.unweighted_hard_label_loss = hl;
    total = tf.add(total, tf.mul(hl, w.hardLabelWeight));
  }
  return { total, losses };
}
