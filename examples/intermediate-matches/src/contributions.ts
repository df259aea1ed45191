/**
 * What each loss term contributes: from a run's metrics.jsonl and its distillation config, the
 * unweighted value of every term at the start and end of training, its weight, its weighted value
 * and its share of the total the optimizer minimised.
 */
import type { JobConfig } from '@distillery/cli';

/** One term of the total loss. */
export interface TermContribution {
  /** metrics key, e.g. `unweighted_hidden_hidden_mse_2_4`. */
  key: string;
  /** What it is, e.g. `hidden_mse  S2 → T4 (proj linear 128→256)`. */
  description: string;
  weight: number;
  /** Mean unweighted value over the first / last tenth of the logged steps. */
  first: number;
  last: number;
  /** weight × last. */
  weighted: number;
  /** weighted / Σ weighted. */
  share: number;
}

interface StepLine {
  type: string;
  losses: Record<string, number>;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Term contributions of a run (the KD term, the hard-label term and every intermediate match). */
export function termContributions(metricsJsonl: string, d: JobConfig['distillation']): TermContribution[] {
  const steps = metricsJsonl
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StepLine)
    .filter((m) => m.type === 'step');
  if (!steps.length) return [];
  const tenth = Math.max(1, Math.ceil(steps.length / 10));
  const terms: { key: string; description: string; weight: number }[] = [
    {
      key: 'unweighted_kd_loss',
      description: `KD on logits (${d.kdLossType}, T = ${JSON.stringify(d.temperature)})`,
      weight: d.kdLossWeight,
    },
    { key: 'unweighted_hard_label_loss', description: 'hard labels (cross-entropy)', weight: d.hardLabelWeight },
    ...d.intermediateMatches.map((m) => {
      const proj = m.proj ? ` (proj ${m.proj[0]} ${m.proj[1]}→${m.proj[2]})` : '';
      return {
        key: `unweighted_${m.feature}_${m.loss}_${String(m.layerS)}_${String(m.layerT)}`,
        description: `${m.loss} on ${m.feature}: S${String(m.layerS)} → T${String(m.layerT)}${proj}`,
        weight: m.weight,
      };
    }),
  ];
  const rows = terms
    .filter((t) => t.key in steps[0]!.losses)
    .map((t) => {
      const first = mean(steps.slice(0, tenth).map((s) => s.losses[t.key]!));
      const last = mean(steps.slice(-tenth).map((s) => s.losses[t.key]!));
      return { ...t, first, last, weighted: t.weight * last, share: 0 };
    });
  const total = rows.reduce((a, r) => a + r.weighted, 0);
  for (const r of rows) r.share = total ? r.weighted / total : 0;
  return rows;
}

/** The contributions as an aligned text table (for the logs). */
export function formatContributions(rows: readonly TermContribution[]): string {
  const head = `${'term'.padEnd(52)} ${'weight'.padStart(6)} ${'start'.padStart(8)} ${'end'.padStart(8)} ${'weighted'.padStart(9)} ${'share'.padStart(6)}`;
  return [
    head,
    ...rows.map(
      (r) =>
        `${r.description.padEnd(52)} ${r.weight.toFixed(2).padStart(6)} ${r.first.toFixed(4).padStart(8)} ${r.last.toFixed(4).padStart(8)} ${r.weighted.toFixed(4).padStart(9)} ${(100 * r.share).toFixed(1).padStart(5)}%`,
    ),
  ].join('\n');
}
