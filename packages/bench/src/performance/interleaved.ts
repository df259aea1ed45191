/**
 * Latency of several models measured round-robin: query i goes to every model in turn before
 * query i + 1, so load from other processes hits all models alike. On a shared machine this is the
 * fair way to state a speed-up; one-model-at-a-time runs minutes apart can differ by 3×.
 */
import type { LatencyStats } from '@distillery/report';
import type { Classifier } from './classifier.js';
import { latencyStats } from './stats.js';

/** Options of {@link interleavedLatency}. */
export interface InterleavedLatencyOptions {
  /** Untimed rounds first. @default 10 */
  warmupRuns?: number;
  /** Timed rounds (one query per model each). @default 100 */
  runs?: number;
  /** @default performance.now */
  now?: () => number;
}

/** Single-query latency per model (by label), queries cycling through `texts`, models alternating. */
export async function interleavedLatency(
  models: Readonly<Record<string, Classifier>>,
  texts: readonly string[],
  o: InterleavedLatencyOptions = {},
): Promise<Record<string, LatencyStats>> {
  const now = o.now ?? (() => performance.now());
  const labels = Object.keys(models);
  const ms: Record<string, number[]> = Object.fromEntries(labels.map((l) => [l, []]));
  const warm = o.warmupRuns ?? 10;
  const runs = o.runs ?? 100;
  for (let i = 0; i < warm + runs; i++) {
    const text = texts[i % texts.length]!;
    // Rotate the starting model so no model always runs right after the same neighbour.
    for (let k = 0; k < labels.length; k++) {
      const label = labels[(i + k) % labels.length]!;
      const t0 = now();
      await models[label]!.predict([text]);
      if (i >= warm) ms[label]!.push(now() - t0);
    }
  }
  return Object.fromEntries(labels.map((l) => [l, latencyStats(ms[l]!)]));
}
