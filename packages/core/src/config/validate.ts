/**
 * Config validation with diagnosing errors: every issue names the JSON path, the file and line
 * when known, and a fix (nearest valid key or plugin name, expected type).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DistilleryError, nearest, suggest } from '../util/errors.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { PluginKind } from '../plugin/types.js';
import { camelizeKeys, formatPath } from './normalize.js';
import { findDuplicateKeys, indexJsonPositions, locate } from './locate.js';
import { schedulerSpec, type DistillationConfig } from './schema.js';

/** One problem found in a config. */
export interface ConfigIssue {
  /** JSON path in camelCase, e.g. `distillation.intermediateMatches[1].loss`. */
  path: string;
  message: string;
  hint?: string;
  line?: number;
  column?: number;
}

/** Thrown for invalid configs; `issues` lists every problem found (not just the first). */
export class ConfigError extends DistilleryError {
  readonly issues: readonly ConfigIssue[];
  readonly file?: string;
  constructor(issues: ConfigIssue[], file?: string) {
    const lines = issues.map((is) => {
      const at = `${file ?? 'config'}${is.line ? `:${is.line}:${is.column ?? 1}` : ''}`;
      return `  ${at} ${is.path}: ${is.message}${is.hint ? ` (${is.hint})` : ''}`;
    });
    super(
      'CONFIG_INVALID',
      `invalid config (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    );
    this.issues = issues;
    this.file = file;
  }
}

type AnyZod = z.ZodType & { _zod: { def: Record<string, unknown> & { type: string } } };

/** The sub-schema at `path` (through defaults, optionals, arrays, tuples, unions of objects). */
function schemaAt(schema: AnyZod, path: readonly PropertyKey[]): AnyZod | undefined {
  let s: AnyZod | undefined = schema;
  for (const key of [...path, null]) {
    while (
      s &&
      ['default', 'optional', 'nullable', 'catch', 'prefault', 'readonly', 'pipe'].includes(s._zod.def.type)
    ) {
      // A pipe (a schema with .transform) is looked up on its input side.
      s = (s._zod.def.type === 'pipe' ? s._zod.def.in : s._zod.def.innerType) as AnyZod;
    }
    if (!s || key === null) break;
    const d: Record<string, unknown> = s._zod.def;
    if (d.type === 'object') s = (d.shape as Record<string, AnyZod>)[String(key)];
    else if (d.type === 'array') s = d.element as AnyZod;
    else if (d.type === 'tuple') s = (d.items as AnyZod[])[Number(key)] ?? (d.rest as AnyZod | undefined);
    else if (d.type === 'union') {
      const objs = (d.options as AnyZod[]).map((o) => schemaAt(o, [key])).filter(Boolean);
      s = objs[0];
    } else return undefined;
  }
  return s;
}

/** Keys of the object schema at `path`; for a union, those of the option the input's discriminator picks. */
function knownKeys(schema: AnyZod, path: readonly PropertyKey[], input?: unknown): string[] {
  const s = schemaAt(schema, path);
  if (!s) return [];
  if (s._zod.def.type === 'object') return Object.keys(s._zod.def.shape as object);
  if (s._zod.def.type !== 'union') return [];
  const objects = (s._zod.def.options as AnyZod[]).filter((o) => o._zod.def.type === 'object');
  const d = (s._zod.def as { discriminator?: string }).discriminator;
  const tag = d && input && typeof input === 'object' ? (input as Record<string, unknown>)[d] : undefined;
  const picked = objects.filter((o) => {
    const lit = (o._zod.def.shape as Record<string, AnyZod>)[d ?? '']?._zod.def as { values?: unknown[] } | undefined;
    return tag !== undefined && lit?.values?.includes(tag);
  });
  return [...new Set((picked.length ? picked : objects).flatMap((o) => Object.keys(o._zod.def.shape as object)))];
}

function describeIssue(schema: AnyZod, issue: z.core.$ZodIssue): ConfigIssue[] {
  const base = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const keys = knownKeys(schema, issue.path, (issue as { input?: unknown }).input);
    return issue.keys.map((k) => ({
      path: formatPath([...issue.path, k]),
      message: `unknown key "${k}"`,
      hint: nearest(k, keys)
        ? `did you mean "${nearest(k, keys)}"?`
        : keys.length
          ? `valid keys: ${keys.join(', ')}`
          : 'remove it (see the JSON Schema: distillery schema)',
    }));
  }
  if (issue.code === 'invalid_type') {
    // JSON numbers beyond ~1.8e308 parse to ±Infinity, which JSON.stringify would show as null.
    if (typeof issue.input === 'number' && !Number.isFinite(issue.input)) {
      return [
        {
          path: base,
          message: `the number overflows to ${issue.input}`,
          hint: 'use a finite number (float32 holds up to about 3.4e38)',
        },
      ];
    }
    return [
      {
        path: base,
        message: `expected ${issue.expected}, got ${issue.input === undefined ? 'nothing (required)' : JSON.stringify(issue.input)}`,
      },
    ];
  }
  if (issue.code === 'custom') {
    const hint = (issue.params as { hint?: string } | undefined)?.hint;
    return [{ path: base, message: issue.message, ...(hint ? { hint } : {}) }];
  }
  if (issue.code === 'invalid_value') {
    return [
      {
        path: base,
        message: `invalid value ${JSON.stringify(issue.input)}`,
        hint: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      },
    ];
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue) {
    const d = issue as unknown as { discriminator: string; options: unknown[]; input: Record<string, unknown> };
    const got = String(d.input?.[d.discriminator]);
    const names = d.options.map(String);
    return [
      {
        path: base,
        message: `invalid value ${JSON.stringify(d.input?.[d.discriminator])}`,
        hint: nearest(got, names)
          ? `did you mean "${nearest(got, names)}"? (expected one of ${names.map((v) => JSON.stringify(v)).join(', ')})`
          : `expected one of ${names.map((v) => JSON.stringify(v)).join(', ')}`,
      },
    ];
  }
  if (issue.code === 'invalid_union') {
    return [
      {
        path: base,
        message: `${JSON.stringify(issue.input)} does not fit`,
        hint: schemaAt(schema, issue.path)?.description ?? 'see the JSON Schema',
      },
    ];
  }
  return [{ path: base, message: issue.message }];
}

/** Parse `input` (already JSON-decoded) against `schema`, accepting snake_case keys. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  opts: { file?: string; text?: string } = {},
): z.output<S> {
  let camel: unknown;
  try {
    camel = camelizeKeys(input);
  } catch (e) {
    const de = e as DistilleryError;
    throw withPositions(
      [{ path: de.where ?? '(root)', message: de.message.split('\n')[0]!.replace(/^.*?: /, ''), hint: de.hint }],
      opts,
    );
  }
  const r = schema.safeParse(camel, { reportInput: true });
  if (r.success) return r.data;
  throw withPositions(
    r.error.issues.flatMap((is) => describeIssue(schema as unknown as AnyZod, is)),
    opts,
  );
}

function withPositions(issues: ConfigIssue[], opts: { file?: string; text?: string }): ConfigError {
  if (opts.text) {
    const idx = indexJsonPositions(opts.text);
    for (const is of issues) {
      const pos = locate(idx, is.path === '(root)' ? '' : is.path);
      if (pos) Object.assign(is, pos);
    }
  }
  return new ConfigError(issues, opts.file);
}

/** Read and validate a JSON config file; JSON syntax errors name the line too. */
export function loadConfigFile<S extends z.ZodType>(schema: S, file: string): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DistilleryError('CONFIG_NOT_FOUND', `cannot read config: ${(e as Error).message}`, { where: file });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const pos = m ? Number(m[1]) : undefined;
    const line = pos !== undefined ? text.slice(0, pos).split('\n').length : undefined;
    throw new ConfigError(
      [
        {
          path: '(root)',
          message: `not valid JSON: ${(e as Error).message}`,
          line,
          hint: 'check commas and quotes near that line',
        },
      ],
      file,
    );
  }
  // JSON.parse keeps the last of two equal keys: the first setting would be silently lost.
  const dups = findDuplicateKeys(text);
  if (dups.length) {
    throw new ConfigError(
      dups.map((d) => ({
        path: d.path,
        message: `key "${d.key}" appears twice in the same object (first at line ${d.first.line}); only the last would count`,
        hint: 'keep one of them',
        ...d.at,
      })),
      file,
    );
  }
  return parseConfig(schema, json, { file, text });
}

/**
 * Check every plugin name a distillation config uses against the registry. Returns the issues
 * (empty when all names resolve); each names the path and the nearest valid plugin.
 */
export function checkPluginNames(
  d: DistillationConfig,
  registry: PluginRegistry,
  prefix = 'distillation',
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const need = (kind: PluginKind, name: string, path: string, allowNone = false) => {
    if (allowNone && name === 'none') return;
    if (!registry.has(kind, name)) {
      issues.push({
        path: `${prefix}.${path}`,
        message: `unknown ${kind} plugin "${name}"`,
        hint: suggest(name, allowNone ? ['none', ...registry.names(kind)] : registry.names(kind)),
      });
    }
  };
  need('kd-loss', d.kdLossType, 'kdLossType');
  need('temperature-scheduler', schedulerSpec(d.temperatureScheduler).name, 'temperatureScheduler', true);
  need('weight-scheduler', d.kdLossWeightScheduler, 'kdLossWeightScheduler', true);
  need('weight-scheduler', d.hardLabelWeightScheduler, 'hardLabelWeightScheduler', true);
  d.intermediateMatches.forEach((m, i) => {
    need('match-loss', m.loss, `intermediateMatches[${i}].loss`);
    if (m.proj) need('projection', m.proj[0], `intermediateMatches[${i}].proj[0]`);
    if (registry.has('match-loss', m.loss)) {
      const pair = registry.get('match-loss', m.loss).arity === 'pair';
      for (const side of ['layerS', 'layerT'] as const) {
        if (Array.isArray(m[side]) !== pair) {
          issues.push({
            path: `${prefix}.intermediateMatches[${i}].${side}`,
            message: pair
              ? `loss "${m.loss}" compares pairs of layers; got ${JSON.stringify(m[side])}`
              : `loss "${m.loss}" takes one layer; got ${JSON.stringify(m[side])}`,
            hint: pair ? 'use [i, j] (e.g. [0, 0] to use one layer twice)' : 'use a single layer index',
          });
        }
      }
    }
  });
  return issues;
}

/** Throw a {@link ConfigError} for plugin-name issues, with file positions when the text is known. */
export function assertPluginNames(
  d: DistillationConfig,
  registry: PluginRegistry,
  opts: { file?: string; text?: string; prefix?: string } = {},
): void {
  const issues = checkPluginNames(d, registry, opts.prefix);
  if (issues.length) throw withPositions(issues, opts);
}
