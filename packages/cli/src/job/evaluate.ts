/**
 * Scoring a model on a split for the job runner: accuracy, CLINC150's in-scope accuracy and oos recall, and the
 * share of the most predicted label. Overall accuracy alone misleads when splits differ in their label mix and the
 * model leans on one label: CLINC150's validation split is 3 % "oos", its test split 18 %, so a student that answers
 * "oos" for most texts scores 3 % on one and 14 % on the other with the same weights. In-scope accuracy compares
 * across splits; the collapse check says when accuracy is mostly one label's share.
 * @packageDocumentation
 */
import type { DistillModel } from '@distillery/core';
import type { Kit } from './kits.js';
import type { EvalProgress } from '../progress.js';

/** What one evaluation found. */
export interface SplitScore {
  /** Metrics for metrics.jsonl, selection and the summary: `accuracy`, plus `inScopeAccuracy` and `oosRecall` with an oos label. */
  metrics: Record<string, number>;
  /** Scored positions (ignored gold labels, < 0, left out). */
  n: number;
  /** The label predicted most often, its share of the predictions and its share of the gold labels. */
  top?: { id: number; share: number; goldShare: number };
}

/** Options of {@link scoreSplit}. */
export interface ScoreOptions {
  /** Id of the out-of-scope label (CLINC150's "oos"): in-scope accuracy and oos recall are reported when given. */
  oosId?: number;
  progress?: EvalProgress;
}

/** Score `model` on `batches` (negative gold labels are ignored positions: sub-words, special tokens, padding). */
export async function scoreSplit<B>(
  kit: Kit<B>,
  model: DistillModel<B>,
  batches: readonly B[],
  o: ScoreOptions = {},
): Promise<SplitScore> {
  let ok = 0;
  let n = 0;
  let inN = 0;
  let inOk = 0;
  let oosN = 0;
  let oosOk = 0;
  const predicted = new Map<number, number>();
  const gold = new Map<number, number>();
  try {
    for (const b of batches) {
      const pred = await kit.predict(model, b);
      const g = kit.labelsOf(b);
      for (let i = 0; i < g.length; i++) {
        const y = g[i]!;
        if (y < 0) continue;
        const p = pred[i]!;
        const hit = p === y;
        ok += hit ? 1 : 0;
        n++;
        predicted.set(p, (predicted.get(p) ?? 0) + 1);
        gold.set(y, (gold.get(y) ?? 0) + 1);
        if (o.oosId === undefined) continue;
        if (y === o.oosId) {
          oosN++;
          oosOk += hit ? 1 : 0;
        } else {
          inN++;
          inOk += hit ? 1 : 0;
        }
      }
      if (o.progress) {
        o.progress.tick();
        // Let the bar redraw between batches.
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    o.progress?.done();
  }
  const metrics: Record<string, number> = { accuracy: ok / Math.max(1, n) };
  if (o.oosId !== undefined && inN) metrics.inScopeAccuracy = inOk / inN;
  if (o.oosId !== undefined && oosN) metrics.oosRecall = oosOk / oosN;
  const [id, count] = [...predicted].sort((a, b) => b[1] - a[1])[0] ?? [];
  return {
    metrics,
    n,
    ...(id !== undefined ? { top: { id, share: count! / n, goldShare: (gold.get(id) ?? 0) / n } } : {}),
  };
}

/**
 * A warning when one label takes most of the predictions (over half, and over twice its share of the gold
 * labels): accuracy is then mostly that label's frequency in the split, not what the model learnt.
 */
export function collapseWarning(
  who: string,
  split: string,
  s: SplitScore,
  labelName: (id: number) => string,
): string | undefined {
  const t = s.top;
  if (!t || s.n < 20 || t.share <= 0.5 || t.share <= 2 * t.goldShare) return undefined;
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  return `${who} predicts "${labelName(t.id)}" for ${pct(t.share)} of the ${split} examples (${pct(t.goldShare)} of their labels): its accuracy there is mostly that label's share of the split${s.metrics.inScopeAccuracy !== undefined ? '; compare in-scope accuracy across splits' : ''} — train longer or check the schedule`;
}

/** `accuracy 14.67 %, inScopeAccuracy 0.12 %, oosRecall 88.1 %` style, for one line. */
export function formatScore(m: Record<string, number>): string {
  const names: Record<string, string> = { accuracy: 'accuracy', inScopeAccuracy: 'in-scope', oosRecall: 'oos recall' };
  return Object.entries(m)
    .filter(([k]) => k in names)
    .map(([k, v]) => `${names[k]} ${(100 * v).toFixed(2)} %`)
    .join(', ');
}
