/**
 * The demo's comparison table: accuracy, size and single-query latency of the four models, with
 * ratios against the teacher and the distilled student's gain over the baseline.
 */
import type { BenchRecord } from '@distillery/report';

/** The four models' labels in results.json. */
export const DEMO_LABELS = {
  teacher: 'teacher',
  baseline: 'baseline (no teacher)',
  student: 'student (distilled)',
  int8: 'student int8 (ONNX)',
} as const;

const pad = (s: string, n: number, right = false) => (right ? s.padStart(n) : s.padEnd(n));

/** The table and the two verdict lines (KD gain, int8 vs teacher). */
export function formatDemoTable(r: { records: readonly BenchRecord[] }): string {
  const by = (label: string): BenchRecord | undefined => r.records.find((x) => x.label === label);
  const teacher = by(DEMO_LABELS.teacher);
  const header = ['model', 'accuracy', 'size MB', 'x smaller', 'latency p50 ms', 'mean ms', 'x faster', 'runtime'];
  const rows = r.records.map((x) => [
    x.label,
    `${(100 * x.accuracy).toFixed(2)} %`,
    x.sizeMB.toFixed(2),
    teacher ? `${(teacher.sizeMB / x.sizeMB).toFixed(1)}x` : '-',
    x.latencyMs.p50.toFixed(2),
    x.latencyMs.mean.toFixed(2),
    teacher ? `${(teacher.latencyMs.p50 / x.latencyMs.p50).toFixed(1)}x` : '-',
    `${x.runtime}${x.backend ? `/${x.backend}` : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i]!, i > 0 && i < 7)).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const s = by(DEMO_LABELS.student);
  const b = by(DEMO_LABELS.baseline);
  const q = by(DEMO_LABELS.int8);
  if (s && b) {
    const gain = 100 * (s.accuracy - b.accuracy);
    out.push(
      `distilled student vs the same student without the teacher: ${gain >= 0 ? '+' : ''}${gain.toFixed(2)} accuracy points (${r.records[0]!.n} test texts)`,
    );
  }
  if (q && teacher) {
    out.push(
      `int8 student vs teacher: ${(teacher.sizeMB / q.sizeMB).toFixed(1)}x smaller, ${(teacher.latencyMs.p50 / q.latencyMs.p50).toFixed(1)}x faster (p50), ${(100 * (q.accuracy - teacher.accuracy)).toFixed(2)} accuracy points`,
    );
  }
  return out.join('\n');
}
