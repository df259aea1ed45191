/**
 * Hashed bag-of-words features for the MLP models: lower-cased word tokens, FNV-1a hashed into
 * `dim` buckets, log(1 + count), then L2-normalised per text. E-mail headers are skipped.
 */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9$!]+/g) ?? [];
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Body of an RFC 822 message (after the first blank line), or the text itself. */
export function messageBody(text: string): string {
  if (!/^[A-Za-z-]+: |^From /.test(text)) return text;
  const i = text.search(/\r?\n\r?\n/);
  return i < 0 ? text : text.slice(i);
}

/** Feature vector of one text. */
export function featurize(text: string, dim: number, out = new Float32Array(dim)): Float32Array {
  for (const tok of tokenize(text)) out[fnv1a(tok) % dim]! += 1;
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    if (out[i]) out[i] = Math.log1p(out[i]!);
    norm += out[i]! * out[i]!;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dim; i++) out[i]! /= norm;
  return out;
}
