import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DistilleryError, ERROR_CODES, isDistilleryError, isErrorCode, nearest, type ErrorCode } from './errors.js';

/** The repository root (the folder with lerna.json), from this file's location. */
const root = join(import.meta.dirname, '..', '..', '..', '..');

/** Codes passed to `new DistilleryError(…)` in the repository's tracked TypeScript sources. */
function codesInUse(): Map<string, string[]> {
  const files = execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  const used = new Map<string, string[]>();
  for (const f of files) {
    const text = readFileSync(join(root, f), 'utf8');
    for (const m of text.matchAll(/new DistilleryError\(\s*'([A-Z_]+)'/g)) {
      if (f.endsWith('errors.test.ts')) continue;
      used.set(m[1]!, [...(used.get(m[1]!) ?? []), f]);
    }
  }
  return used;
}

describe('error-code catalogue', () => {
  it('lists every code the repository throws, and only those', () => {
    const used = codesInUse();
    const listed = Object.keys(ERROR_CODES);
    expect(
      [...used.keys()].filter((c) => !isErrorCode(c)),
      'codes thrown but not in ERROR_CODES',
    ).toEqual([]);
    expect(
      listed.filter((c) => !used.has(c)),
      'codes in ERROR_CODES that nothing throws',
    ).toEqual([]);
    for (const d of Object.values(ERROR_CODES)) expect(d.length).toBeGreaterThan(10);
  });
  it('carries code, where, hint and the catalogue description', () => {
    const e = new DistilleryError('UNKNOWN_PLUGIN', 'no kd-loss named "cee"', {
      where: 'distillation.kdLossType',
      hint: 'did you mean "ce"?',
    });
    expect(e.message).toBe('distillation.kdLossType: no kd-loss named "cee"\n  hint: did you mean "ce"?');
    expect(e.code).toBe('UNKNOWN_PLUGIN');
    expect(e.description).toBe(ERROR_CODES.UNKNOWN_PLUGIN);
    expect(isDistilleryError(e)).toBe(true);
    expect(isDistilleryError(e, 'SHAPE_MISMATCH')).toBe(false);
    expect(isErrorCode('NOT_A_CODE')).toBe(false);
    // @ts-expect-error a code outside the catalogue does not compile
    const bad = new DistilleryError('NOT_A_CODE', 'x');
    expect(bad.code).toBe('NOT_A_CODE');
    const exhaustive = (c: ErrorCode): string => ERROR_CODES[c];
    expect(exhaustive('USAGE')).toMatch(/command line/);
    expect(nearest('SHAPE_MISMACH', Object.keys(ERROR_CODES))).toBe('SHAPE_MISMATCH');
  });
});
