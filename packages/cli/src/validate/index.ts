/**
 * Up-front config checks (`validate`, and `distill`/`train` before any data or model work): everything
 * that can be known without training, every problem at once, sorted by position in the file, each
 * with its path, file:line:col and a fix.
 * @packageDocumentation
 */
import { ConfigError, indexJsonPositions, locate } from '@distillery/core';
import { checkData, checkModelFolders } from './files.js';
import { checkMatches } from './matches.js';
import { modelShapes } from './models.js';
import { checkPlugins } from './plugins.js';
import { checkTraining } from './training.js';
import type { CheckContext, Problem } from './types.js';

export type { CheckContext } from './types.js';
export type { ModelShape } from './models.js';

/** Every problem of a parsed config, without positions. */
export function checkJobConfig(ctx: CheckContext): Problem[] {
  const shapes = modelShapes(ctx);
  return [
    ...checkTraining(ctx),
    ...checkData(ctx),
    ...checkModelFolders(ctx),
    ...shapes.problems,
    ...checkMatches(ctx, shapes.teacher, shapes.student),
    ...checkPlugins(ctx),
  ];
}

/** Add file positions and sort by them (problems without a position last, by path). */
export function positioned(problems: Problem[], text?: string): Problem[] {
  if (text) {
    const idx = indexJsonPositions(text);
    for (const p of problems) {
      const pos = locate(idx, p.path);
      if (pos) Object.assign(p, pos);
    }
  }
  const key = (p: Problem) => (p.line ?? Number.MAX_SAFE_INTEGER) * 1e4 + (p.column ?? 0);
  return problems.sort((a, b) => key(a) - key(b) || a.path.localeCompare(b.path));
}

/** Throw one {@link ConfigError} naming every problem, if there are any. */
export function assertJobConfig(ctx: CheckContext, file?: string, text?: string): void {
  const problems = positioned(checkJobConfig(ctx), text);
  if (problems.length) throw new ConfigError(problems, file);
}
