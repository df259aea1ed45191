/**
 * Errors that diagnose: every Distillery error names where (config path, file:line, match entry)
 * and, when it can, how to fix it (nearest valid name, expected shape).
 */
export class DistilleryError extends Error {
  /** Machine-readable code, e.g. `CONFIG_INVALID`, `UNKNOWN_PLUGIN`, `SHAPE_MISMATCH`. */
  readonly code: string;
  /** Where the problem is: a JSON path (`distillation.intermediateMatches[1].loss`), `file:line`, … */
  readonly where?: string;
  /** A suggested fix. */
  readonly hint?: string;

  constructor(code: string, message: string, opts: { where?: string; hint?: string; cause?: unknown } = {}) {
    const full = [opts.where ? `${opts.where}: ${message}` : message, opts.hint ? `  hint: ${opts.hint}` : '']
      .filter(Boolean)
      .join('\n');
    super(full, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'DistilleryError';
    this.code = code;
    this.where = opts.where;
    this.hint = opts.hint;
  }
}

/** Levenshtein distance (small strings; used for "did you mean"). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n]!;
}

/** The candidate nearest to `name` (case- and `_`/`-`-insensitive), or undefined if none is close. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const target = norm(name);
  const list = [...candidates];
  // A unique prefix ("spam" → "spam-assassin") is a good guess even when the edit distance is large.
  const prefixed = target.length >= 3 ? list.filter((c) => norm(c).startsWith(target)) : [];
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of list) {
    const d = editDistance(target, norm(c));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  return bestD <= Math.max(2, Math.ceil(target.length / 2)) ? best : undefined;
}

/** "did you mean" hint text, listing valid names when nothing is close. */
export function suggest(name: string, candidates: readonly string[]): string {
  const n = nearest(name, candidates);
  return n !== undefined
    ? `did you mean "${n}"? (valid: ${candidates.join(', ')})`
    : `valid names: ${candidates.join(', ')}`;
}
