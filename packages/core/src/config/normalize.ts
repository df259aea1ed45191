/**
 * Accept TextBrewer's snake_case option names in JSON: keys are converted to camelCase before
 * validation (`kd_loss_type` → `kdLossType`, `layer_T` → `layerT`). Free-form `options` objects
 * (handed to plugins unchanged) are left alone.
 */
import { DistilleryError } from '../util/errors.js';

/** `kd_loss_type` → `kdLossType`; camelCase input is returned unchanged. */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

const OPAQUE = new Set(['options']);

/** Deep-convert object keys to camelCase. Throws when both spellings of a key are present. */
export function camelizeKeys(value: unknown, path: (string | number)[] = []): unknown {
  if (Array.isArray(value)) return value.map((v, i) => camelizeKeys(v, [...path, i]));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const ck = k.startsWith('$') ? k : snakeToCamel(k);
    if (ck in out) {
      throw new DistilleryError('CONFIG_INVALID', `"${origin[ck]}" and "${k}" are the same option`, {
        where: formatPath([...path, ck]),
        hint: `keep one spelling (camelCase "${ck}" is canonical)`,
      });
    }
    origin[ck] = k;
    out[ck] = OPAQUE.has(ck) ? v : camelizeKeys(v, [...path, ck]);
  }
  return out;
}

/** `["distillation", "intermediateMatches", 1, "loss"]` → `distillation.intermediateMatches[1].loss`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(root)';
}
