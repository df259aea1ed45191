/**
 * CLINC150-style evaluation: overall accuracy, in-scope accuracy (oos rows excluded; predicting `oos`
 * on an in-scope row counts as wrong) and oos recall.
 * @packageDocumentation
 */
import type { Example, TextTokenizer } from '@distillery/data';
import { DistilleryError } from '@distillery/core';
import type { EncoderModel } from '../hf/encoder.types.js';
import { predictTexts, type PredictOptions } from './predict.js';

/** Evaluation result (accuracies as fractions in [0, 1]). */
export interface IntentEvaluation {
  total: number;
  accuracy: number;
  inScopeTotal: number;
  inScopeAccuracy: number;
  oosTotal: number;
  oosRecall: number;
  /** Predicted label per example, in input order. */
  predictions: string[];
  /** Wall time of tokenisation + inference. */
  ms: number;
}

/** Evaluate a classifier on labelled examples; labels are compared by name. */
export function evaluateIntents(
  model: EncoderModel,
  tokenizer: TextTokenizer,
  examples: readonly Example[],
  opts: PredictOptions & { oosLabel?: string } = {},
): IntentEvaluation {
  const oos = opts.oosLabel ?? 'oos';
  const t0 = performance.now();
  examples.forEach((e, i) => {
    if (e.label === undefined)
      throw new DistilleryError('DATA_INVALID', `example ${i} has no label`, { where: 'evaluateIntents' });
  });
  const preds = predictTexts(
    model,
    tokenizer,
    examples.map((e) => e.text),
    opts,
  );
  let correct = 0;
  let inTotal = 0;
  let inCorrect = 0;
  let oosTotal = 0;
  let oosHit = 0;
  preds.forEach((p, i) => {
    const gold = examples[i]!.label!;
    const ok = p.label === gold;
    if (ok) correct++;
    if (gold === oos) {
      oosTotal++;
      if (ok) oosHit++;
    } else {
      inTotal++;
      if (ok) inCorrect++;
    }
  });
  const frac = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return {
    total: preds.length,
    accuracy: frac(correct, preds.length),
    inScopeTotal: inTotal,
    inScopeAccuracy: frac(inCorrect, inTotal),
    oosTotal,
    oosRecall: frac(oosHit, oosTotal),
    predictions: preds.map((p) => p.label),
    ms: performance.now() - t0,
  };
}
