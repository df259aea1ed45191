/**
 * Find the line and column of a JSON path inside the original JSON text, so config errors can say
 * `file.json:12:7`. A small hand-written scanner: it records the position of every value while
 * walking the text once. Keys are matched in camelCase and in snake_case.
 */
import { snakeToCamel } from './normalize.js';

export interface TextPosition {
  line: number;
  column: number;
}

/** A key written twice in one JSON object (JSON.parse silently keeps the last). */
export interface DuplicateKey {
  /** Normalised path of the key. */
  path: string;
  /** The key as written. */
  key: string;
  /** Where it is written again. */
  at: TextPosition;
  /** Where it was first written. */
  first: TextPosition;
}

/**
 * Map of normalised path (`a.b[0].c`) → position of the value (or key) in `text`. `onDuplicate` is
 * called for every key written twice in the same object.
 */
export function indexJsonPositions(text: string, onDuplicate?: (d: DuplicateKey) => void): Map<string, TextPosition> {
  const map = new Map<string, TextPosition>();
  let i = 0;
  let line = 1;
  let col = 1;
  const adv = () => {
    if (text[i] === '\n') {
      line++;
      col = 1;
    } else col++;
    i++;
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) adv();
  };
  const str = (): string => {
    let s = '';
    adv(); // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        s += text[i]! + text[i + 1]!;
        adv();
        adv();
      } else {
        s += text[i];
        adv();
      }
    }
    adv();
    try {
      return JSON.parse(`"${s}"`) as string;
    } catch {
      return s;
    }
  };
  const value = (path: string) => {
    ws();
    map.set(path, { line, column: col });
    const c = text[i];
    if (c === '{') {
      adv();
      ws();
      const seen = new Map<string, TextPosition>();
      while (i < text.length && text[i] !== '}') {
        ws();
        const keyPos = { line, column: col };
        const rawKey = str();
        const k = snakeToCamel(rawKey);
        const p = path ? `${path}.${k}` : k;
        const before = seen.get(rawKey);
        if (before) onDuplicate?.({ path: p, key: rawKey, at: keyPos, first: before });
        else seen.set(rawKey, keyPos);
        ws();
        adv(); // ':'
        value(p);
        if (!map.has(p + '#key')) map.set(p + '#key', keyPos);
        ws();
        if (text[i] === ',') adv();
        ws();
      }
      adv();
    } else if (c === '[') {
      adv();
      ws();
      let n = 0;
      while (i < text.length && text[i] !== ']') {
        value(`${path}[${n++}]`);
        ws();
        if (text[i] === ',') adv();
        ws();
      }
      adv();
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !/[\s,}\]]/.test(text[i]!)) adv();
    }
  };
  try {
    value('');
  } catch {
    // Positions are best effort: a malformed text still yields what was scanned.
  }
  return map;
}

/** Keys written twice in the same object of a JSON text. */
export function findDuplicateKeys(text: string): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  indexJsonPositions(text, (d) => out.push(d));
  return out;
}

/** Position of `path` (normalised, camelCase) or of its nearest existing ancestor. */
export function locate(index: Map<string, TextPosition>, path: string): TextPosition | undefined {
  let p = path;
  for (;;) {
    const hit = index.get(p + '#key') ?? index.get(p);
    if (hit) return hit;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return index.get('');
    p = p.slice(0, cut);
  }
}
