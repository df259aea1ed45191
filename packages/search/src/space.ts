/**
 * Search spaces: named float or int parameters over [low, high], optionally log-uniform, parsed
 * from `alpha=0..1,temperature=1..20,numEpochs=2..6,lr=1e-5..1e-3:log`.
 */
import { DistilleryError } from '@distillery/core';

/** One parameter's distribution. */
export interface ParamSpec {
  type: 'float' | 'int';
  low: number;
  high: number;
  /** Sample log-uniformly (TPE models log(x)). @default false */
  log?: boolean;
}

/** Parameters by name. */
export type SearchSpace = Record<string, ParamSpec>;

/** Parameter values of a trial. */
export type Params = Record<string, number>;

/** Check a space: finite bounds, low ≤ high, positive bounds for log. */
export function validateSpace(space: SearchSpace, where = 'space'): SearchSpace {
  const names = Object.keys(space);
  if (!names.length)
    throw new DistilleryError('SEARCH_SPACE', 'the search space is empty', {
      where,
      hint: 'e.g. --space alpha=0..1,temperature=1..20',
    });
  for (const [n, p] of Object.entries(space)) {
    const w = `${where}: ${n}`;
    if (!Number.isFinite(p.low) || !Number.isFinite(p.high))
      throw new DistilleryError('SEARCH_SPACE', 'bounds must be finite numbers', { where: w });
    if (p.low > p.high)
      throw new DistilleryError('SEARCH_SPACE', `low ${p.low} is above high ${p.high}`, {
        where: w,
        hint: `write ${n}=${p.high}..${p.low}`,
      });
    if (p.log && p.low <= 0)
      throw new DistilleryError('SEARCH_SPACE', 'a log-uniform parameter needs low > 0', { where: w });
    if (p.type === 'int' && (!Number.isInteger(p.low) || !Number.isInteger(p.high)))
      throw new DistilleryError('SEARCH_SPACE', 'an int parameter needs integer bounds', {
        where: w,
        hint: `or mark it float: ${n}=${p.low}..${p.high}:float`,
      });
  }
  return space;
}

/**
 * Parse `name=low..high[:int|:float|:log]` entries separated by commas. A range is an int when
 * `types` says so or both bounds are written as integers without a decimal point — except where
 * `types` names the parameter a float (so `alpha=0..1` is a float when `types.alpha` is `float`).
 */
export function parseSpace(
  text: string,
  types: Record<string, ParamSpec['type'] | { type: ParamSpec['type']; log?: boolean }> = {},
): SearchSpace {
  const space: SearchSpace = {};
  for (const raw of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const parts = /^([A-Za-z_][\w.]*)=(.+)$/.exec(raw);
    if (!parts)
      throw new DistilleryError('SEARCH_SPACE', `cannot read "${raw}"`, {
        where: '--space',
        hint: 'write name=low..high, e.g. alpha=0..1,temperature=1..20,numEpochs=2..6 (suffix :log for log-uniform, :int / :float to force the type)',
      });
    const name = parts[1]!;
    const [range, ...flags] = parts[2]!.split(':');
    const bounds = range!.split('..');
    if (bounds.length !== 2)
      throw new DistilleryError('SEARCH_SPACE', `"${raw}" needs exactly one ".." between low and high`, {
        where: '--space',
      });
    const [lo, hi] = bounds.map((b) => Number(b));
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || bounds.some((b) => b.trim() === ''))
      throw new DistilleryError('SEARCH_SPACE', `bounds of "${raw}" are not numbers`, { where: '--space' });
    for (const f of flags)
      if (!['int', 'float', 'log'].includes(f))
        throw new DistilleryError('SEARCH_SPACE', `unknown flag ":${f}" in "${raw}"`, {
          where: '--space',
          hint: 'flags: :int, :float, :log',
        });
    const known = types[name];
    const knownType = typeof known === 'string' ? known : known?.type;
    const written = bounds.every((b) => /^[-+]?\d+$/.test(b.trim())) ? 'int' : 'float';
    const type = flags.includes('int') ? 'int' : flags.includes('float') ? 'float' : (knownType ?? written);
    const log = flags.includes('log') || (typeof known === 'object' && !!known.log);
    space[name] = { type, low: lo!, high: hi!, ...(log ? { log: true } : {}) };
  }
  return validateSpace(space, '--space');
}

/** Clamp and round a value into a parameter's domain. */
export function clampParam(p: ParamSpec, v: number): number {
  const c = Math.min(p.high, Math.max(p.low, v));
  return p.type === 'int' ? Math.round(c) : c;
}
