/**
 * The conformance runner: runs reference cases against the plugins of a registry.
 *
 * Cases are dispatched on `fn` through a handler table (built-in handlers, then the distiller
 * handlers, then the caller's). A case whose `fn` has no handler is **skipped** and named.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PluginRegistry } from '@distillery/core';
import { decodeValue, loadCases, type CaseFile, type ConformanceCase } from './cases.js';
import { DEFAULT_TOLERANCE, compareValues, toPlain, type Tolerance } from './compare.js';
import { builtinHandlers } from './handlers/builtin.js';
import { distillerHandlers } from './handlers/distillers.js';
import type { HandlerContext, HandlerTable } from './handlers/types.js';

/** Options of {@link runCases}. */
export interface RunOptions {
  /** Registry the plugins are looked up in (e.g. `await createRegistry()`). */
  readonly registry: PluginRegistry;
  /** Extra handlers by `fn`; they override the built-in and distiller ones of the same `fn`. */
  readonly handlers?: HandlerTable;
  /** Tolerance; default `|got − exp| ≤ 1e-5 · max(|exp|, 1e-6)`. */
  readonly tolerance?: Partial<Tolerance>;
  /** Run only the cases this returns true for. */
  readonly filter?: (c: ConformanceCase) => boolean;
}

/** One failed case. `got` is the handler's result as plain data, or undefined when it threw. */
export interface CaseFailure {
  readonly name: string;
  readonly fn: string;
  readonly expected: unknown;
  readonly got: unknown;
  readonly message: string;
}

/** What {@link runCases} reports. */
export interface RunReport {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly failures: CaseFailure[];
  /** Names of the skipped cases (their `fn` has no handler). */
  readonly skippedNames: string[];
  /** The distinct `fn`s that had no handler. */
  readonly skippedFns: string[];
}

/** The default table: built-in plugin handlers plus the distiller handlers. */
export function defaultHandlers(): HandlerTable {
  return { ...builtinHandlers, ...distillerHandlers };
}

/**
 * Runs every case of `source` (a case-file path or a parsed object). Each case's arguments are
 * decoded (tensors → tf tensors, int64 → int32), its handler runs, and the result is compared
 * with `expected_f32` (or `expected` when absent). Tensors made during a case are disposed after it.
 */
export async function runCases(source: string | CaseFile, opts: RunOptions): Promise<RunReport> {
  const file = loadCases(source);
  const table: HandlerTable = { ...defaultHandlers(), ...(opts.handlers ?? {}) };
  const tol: Tolerance = { ...DEFAULT_TOLERANCE, ...(opts.tolerance ?? {}) };
  const failures: CaseFailure[] = [];
  const skippedNames: string[] = [];
  const skippedFns = new Set<string>();
  let passed = 0;
  for (const c of file.cases) {
    if (opts.filter && !opts.filter(c)) continue;
    const handler = Object.prototype.hasOwnProperty.call(table, c.fn) ? table[c.fn] : undefined;
    if (!handler) {
      skippedNames.push(c.name);
      skippedFns.add(c.fn);
      continue;
    }
    const expected = c.expected_f32 !== undefined ? c.expected_f32 : c.expected;
    const hctx: HandlerContext = { registry: opts.registry, case: c, context: (name) => opts.registry.context(name) };
    let got: unknown;
    let message: string | undefined;
    // A scope instead of tf.tidy because handlers may be async.
    tf.engine().startScope();
    try {
      got = toPlain(await handler(decodeValue(c.args) as Record<string, unknown>, hctx));
      message = compareValues(got, expected, tol);
    } catch (e) {
      message = `threw: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      tf.engine().endScope();
    }
    if (message === undefined) passed++;
    else failures.push({ name: c.name, fn: c.fn, expected, got, message });
  }
  return {
    passed,
    failed: failures.length,
    skipped: skippedNames.length,
    failures,
    skippedNames,
    skippedFns: [...skippedFns],
  };
}

/** The summary line: `N passed, M failed, K skipped`. */
export function summaryLine(r: RunReport): string {
  return `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`;
}
