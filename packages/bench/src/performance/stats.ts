/** Latency statistics: mean ± sample std and nearest-rank percentiles. */
import type { LatencyStats } from '@distillery/report';

/** Nearest-rank percentile of sorted values (p in [0, 100]). */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Summarise timed runs in milliseconds. */
export function latencyStats(ms: readonly number[]): LatencyStats {
  const n = ms.length;
  const mean = ms.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const std = n > 1 ? Math.sqrt(ms.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const sorted = [...ms].sort((a, b) => a - b);
  return { mean, std, p50: percentile(sorted, 50), p95: percentile(sorted, 95), runs: n };
}
