/**
 * BERT text normalisation and pre-tokenisation, as in Hugging Face `BertNormalizer` and
 * `BertPreTokenizer` (and Google's original `BasicTokenizer`).
 * @packageDocumentation
 */

/** Options of {@link bertNormalize}; all default to true (uncased BERT). */
export interface BertNormalizerOptions {
  cleanText?: boolean;
  handleChineseChars?: boolean;
  stripAccents?: boolean;
  lowercase?: boolean;
}

const CONTROL = /\p{C}/u;
const SPACE_SEP = /\p{Zs}/u;
const MARK_NONSPACING = /\p{Mn}/gu;
const PUNCT = /\p{P}/u;

/** Whitespace as BERT sees it: space, tab, LF, CR and Unicode category Zs. */
export function isBertWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || SPACE_SEP.test(ch);
}

/** Control characters (category C*), except tab/LF/CR which count as whitespace. */
export function isBertControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return CONTROL.test(ch);
}

/** Punctuation: ASCII 33–47, 58–64, 91–96, 123–126 (so `$`, `+`, `^` count) or Unicode category P*. */
export function isBertPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
    return true;
  return PUNCT.test(ch);
}

/** CJK ideograph blocks (the same ranges as BERT's `_is_chinese_char`). */
export function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/**
 * Normalise text like `BertNormalizer`: drop NUL/U+FFFD/control chars, whitespace → space,
 * spaces around CJK ideographs, strip accents (NFD, drop Mn), lowercase.
 */
export function bertNormalize(text: string, opts: BertNormalizerOptions = {}): string {
  const { cleanText = true, handleChineseChars = true, stripAccents = true, lowercase = true } = opts;
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cleanText) {
      if (cp === 0 || cp === 0xfffd || isBertControl(ch)) continue;
      if (isBertWhitespace(ch)) {
        out += ' ';
        continue;
      }
    }
    out += handleChineseChars && isCjk(cp) ? ` ${ch} ` : ch;
  }
  if (stripAccents) out = out.normalize('NFD').replace(MARK_NONSPACING, '');
  if (lowercase) out = out.toLowerCase();
  return out;
}

/** Split normalised text into words: on whitespace, with every punctuation character a word of its own. */
export function bertPreTokenize(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  for (const ch of text) {
    if (isBertWhitespace(ch) || /\s/u.test(ch)) {
      if (cur) words.push(cur);
      cur = '';
    } else if (isBertPunctuation(ch)) {
      if (cur) words.push(cur);
      words.push(ch);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur) words.push(cur);
  return words;
}
