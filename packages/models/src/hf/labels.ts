/**
 * `id2label` / `num_labels` of a Hugging Face `config.json`, validated (shared by every family).
 * @packageDocumentation
 */
import { DistilleryError } from '@distillery/core';

/** `id2label` (or `num_labels` → `LABEL_i`), validated: ids 0..n-1, string names, `num_labels` consistent. */
export function parseLabelNames(json: Record<string, unknown>, at: (f: string) => string): string[] {
  const raw = json.id2label as Record<string, unknown> | undefined;
  const n = json.num_labels;
  if (raw && typeof raw === 'object') {
    const names: string[] = [];
    for (const [k, v] of Object.entries(raw)) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || typeof v !== 'string')
        throw new DistilleryError('CONFIG_INVALID', `bad entry ${JSON.stringify(k)}: ${JSON.stringify(v)}`, {
          where: at('id2label'),
        });
      names[i] = v;
    }
    for (let i = 0; i < names.length; i++)
      if (names[i] === undefined)
        throw new DistilleryError('CONFIG_INVALID', `no label for id ${i}`, { where: at('id2label') });
    if (typeof n === 'number' && n !== names.length)
      throw new DistilleryError('CONFIG_INVALID', `num_labels ${n} but id2label has ${names.length} entries`, {
        where: at('num_labels'),
      });
    return names;
  }
  const count = typeof n === 'number' ? n : 2;
  if (!Number.isInteger(count) || count < 1)
    throw new DistilleryError('CONFIG_INVALID', `must be a positive integer, got ${JSON.stringify(n)}`, {
      where: at('num_labels'),
    });
  return Array.from({ length: count }, (_, i) => `LABEL_${i}`);
}
