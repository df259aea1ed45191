import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Locate the project's shared material (`../shared` beside the repository root, or `$DISTILLERY_SHARED`).
 * Returns the absolute path of `parts` inside it, or `undefined` when it is missing.
 * Under `CI=true` a missing shared folder is an error: CI must never skip those tests silently.
 */
export function sharedPath(...parts: string[]): string | undefined {
  const base = findSharedRoot();
  const p = base ? join(base, ...parts) : undefined;
  if (p && existsSync(p)) return p;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    throw new Error(
      `shared material missing: ${join(base ?? '../shared', ...parts)} (CI=true requires it; set DISTILLERY_SHARED or place shared/ beside the repo)`,
    );
  }
  return undefined;
}

function findSharedRoot(): string | undefined {
  if (process.env.DISTILLERY_SHARED) return resolve(process.env.DISTILLERY_SHARED);
  // Walk up from the cwd to the repo root (the folder with lerna.json), then look beside it.
  let dir = process.cwd();
  for (;;) {
    if (existsSync(join(dir, 'lerna.json'))) {
      const s = join(dir, '..', 'shared');
      return existsSync(s) ? s : undefined;
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Message for tests that skip because shared material is absent (only outside CI). */
export const SHARED_SKIP_MESSAGE =
  'skipped: ../shared not found (set DISTILLERY_SHARED); under CI=true this fails instead';
