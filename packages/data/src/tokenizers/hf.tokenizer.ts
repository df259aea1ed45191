/**
 * `tokenizer.json` support through `@huggingface/tokenizers` (which handles normalisation,
 * pre-tokenisation and the model); truncation and padding are done here because that library
 * does not apply the file's `truncation`/`padding` sections.
 * @packageDocumentation
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { DistilleryError } from '@distillery/core';
import { BaseTokenizer, type SingleTemplate } from './base.tokenizer.js';
import { bertPairTemplate, type PairTemplate } from './pair.js';

/**
 * The part of `@huggingface/tokenizers`' `Tokenizer` used here, as its `types/core/Tokenizer.d.ts` declares it:
 * that package's declarations import each other without file extensions, which NodeNext resolution cannot
 * follow, so the class itself would type as unresolved.
 */
interface HfTokenizer {
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
  encode(text: string, options?: { add_special_tokens?: boolean }): { tokens: string[]; ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
}
type HfTokenizerClass = new (json: Record<string, unknown>, config: Record<string, unknown>) => HfTokenizer;

interface TemplateItem {
  SpecialToken?: { id: string; type_id?: number };
  Sequence?: { id: string; type_id?: number };
}

/** A tokenizer loaded from a Hugging Face `tokenizer.json`. */
export class HfJsonTokenizer extends BaseTokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly unkId: number;
  /** The parsed `tokenizer.json`. */
  readonly json: Record<string, unknown>;
  private readonly tk: HfTokenizer;
  /** Byte-level BPE (GPT-2/RoBERTa): a word's first piece carries the space marker `Ġ`. */
  private readonly byteLevel: boolean;

  /** Pre-tokenisers that split at whitespace, so a whitespace-cut prefix tokenizes as the text's start. */
  private static readonly WHITESPACE_SPLITTERS = new Set([
    'BertPreTokenizer',
    'Whitespace',
    'WhitespaceSplit',
    'ByteLevel',
    'Metaspace',
  ]);

  private static splitsAt(pre: unknown): boolean {
    const p = pre as { type?: string; pretokenizers?: unknown[] } | null | undefined;
    if (!p?.type) return false;
    if (HfJsonTokenizer.WHITESPACE_SPLITTERS.has(p.type)) return true;
    return (
      p.type === 'Sequence' &&
      Array.isArray(p.pretokenizers) &&
      p.pretokenizers.some((x) => HfJsonTokenizer.splitsAt(x))
    );
  }

  /** Whether {@link BaseTokenizer.firstPieces} is exact for this tokenizer (its pre-tokeniser splits at whitespace). */
  private readonly splitsAtWhitespace: boolean;

  private static usesByteLevel(pre: unknown): boolean {
    const p = pre as { type?: string; pretokenizers?: unknown[] } | null | undefined;
    if (!p) return false;
    if (p.type === 'ByteLevel') return true;
    return (
      p.type === 'Sequence' &&
      Array.isArray(p.pretokenizers) &&
      p.pretokenizers.some((x) => HfJsonTokenizer.usesByteLevel(x))
    );
  }

  /**
   * The pair layout of `post_processor`: TemplateProcessing's `pair`, BertProcessing (`[CLS] A [SEP] B [SEP]`,
   * B typed 1) or RobertaProcessing (`<s> A </s> </s> B </s>`, all type 0, as RoBERTa has one token type).
   */
  private static pairTemplateOf(
    json: Record<string, unknown>,
    single: SingleTemplate,
    idOf: (t: string) => number,
  ): PairTemplate {
    const pp = json.post_processor as { type?: string; pair?: TemplateItem[] } | null | undefined;
    if (pp?.type === 'RobertaProcessing') {
      const cls = single.prefix[0]!;
      const sep = single.suffix[0]!;
      const sp = (t: typeof cls) => ({ special: { id: t.id, token: t.token }, typeId: 0 });
      return [sp(cls), { sequence: 'A', typeId: 0 }, sp(sep), sp(sep), { sequence: 'B', typeId: 0 }, sp(sep)];
    }
    if (pp?.type === 'TemplateProcessing' && Array.isArray(pp.pair)) {
      return pp.pair.map((item) =>
        item.Sequence
          ? { sequence: item.Sequence.id === 'B' ? ('B' as const) : ('A' as const), typeId: item.Sequence.type_id ?? 0 }
          : {
              special: { id: idOf(item.SpecialToken!.id), token: item.SpecialToken!.id },
              typeId: item.SpecialToken!.type_id ?? 0,
            },
      );
    }
    return bertPairTemplate(single);
  }

  /**
   * @param json parsed `tokenizer.json`
   * @param config parsed `tokenizer_config.json` (may be `{}`)
   * @param maxLength overrides `truncation.max_length` / `model_max_length`
   */
  constructor(
    json: Record<string, unknown>,
    config: Record<string, unknown> = {},
    maxLength?: number,
    where = 'tokenizer.json',
  ) {
    const tk = new (Tokenizer as HfTokenizerClass)(json, config);
    const idOf = (tok: string): number => {
      const id = tk.token_to_id(tok);
      if (id === undefined)
        throw new DistilleryError('TOKENIZER_VOCAB', `special token "${tok}" is not in the vocabulary`, { where });
      return id;
    };
    const trunc = json.truncation as { max_length?: number } | null | undefined;
    const cfgMax =
      typeof config.model_max_length === 'number' && config.model_max_length < 1e6
        ? config.model_max_length
        : undefined;
    const single = HfJsonTokenizer.template(json, idOf, where);
    super(maxLength ?? trunc?.max_length ?? cfgMax ?? 512, single, HfJsonTokenizer.pairTemplateOf(json, single, idOf));
    this.byteLevel = HfJsonTokenizer.usesByteLevel(json.pre_tokenizer);
    this.splitsAtWhitespace = HfJsonTokenizer.splitsAt(json.pre_tokenizer);
    this.tk = tk;
    this.json = json;
    let maxId = -1;
    for (const id of tk.get_vocab(true).values()) if (id > maxId) maxId = id; // no spread: vocabularies can be 250k
    this.vocabSize = maxId + 1;
    const pad = (json.padding as { pad_id?: number } | null | undefined)?.pad_id;
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a tokenizer_config.json value of any JSON type
    this.padId = pad ?? tk.token_to_id(String(config.pad_token ?? '[PAD]')) ?? 0;
    const model = json.model as { unk_token?: string } | undefined;
    this.unkId = tk.token_to_id(model?.unk_token ?? '[UNK]') ?? this.padId;
  }

  /** Reads the single-sequence layout from `post_processor` (TemplateProcessing or BertProcessing). */
  private static template(json: Record<string, unknown>, idOf: (t: string) => number, where: string): SingleTemplate {
    const pp = json.post_processor as
      { type?: string; single?: TemplateItem[]; cls?: [string, number]; sep?: [string, number] } | null | undefined;
    if (!pp) return { prefix: [], suffix: [], typeId: 0 };
    if (pp.type === 'BertProcessing' || pp.type === 'RobertaProcessing') {
      const [cls, clsId] = pp.cls ?? ['[CLS]', idOf('[CLS]')];
      const [sep, sepId] = pp.sep ?? ['[SEP]', idOf('[SEP]')];
      return {
        prefix: [{ id: clsId, token: cls, typeId: 0 }],
        suffix: [{ id: sepId, token: sep, typeId: 0 }],
        typeId: 0,
      };
    }
    if (pp.type === 'TemplateProcessing' && Array.isArray(pp.single)) {
      const t: SingleTemplate = { prefix: [], suffix: [], typeId: 0 };
      let seen = false;
      for (const item of pp.single) {
        if (item.Sequence) {
          seen = true;
          t.typeId = item.Sequence.type_id ?? 0;
        } else if (item.SpecialToken) {
          const s = {
            id: idOf(item.SpecialToken.id),
            token: item.SpecialToken.id,
            typeId: item.SpecialToken.type_id ?? 0,
          };
          (seen ? t.suffix : t.prefix).push(s);
        }
      }
      return t;
    }
    throw new DistilleryError('TOKENIZER_UNSUPPORTED', `post_processor type "${pp.type}" is not supported`, {
      where,
      hint: 'supported: TemplateProcessing, BertProcessing, RobertaProcessing, or none',
    });
  }

  tokenToId(token: string): number | undefined {
    return this.tk.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tk.id_to_token(id);
  }

  protected pieces(text: string, limit = Infinity): { tokens: string[]; ids: number[] } {
    const all = (t: string) => {
      const e = this.tk.encode(t, { add_special_tokens: false });
      return { tokens: e.tokens, ids: e.ids };
    };
    // Encoding a whole e-mail to keep its first 62 pieces is what made datasets of long texts slow to load.
    return Number.isFinite(limit) && this.splitsAtWhitespace ? this.firstPieces(text, limit, all) : all(text);
  }

  protected override wordPieces(word: string): { tokens: string[]; ids: number[] } {
    // transformers' is_split_into_words with add_prefix_space: every word starts with a space marker.
    return this.pieces(this.byteLevel && !word.startsWith(' ') ? ` ${word}` : word);
  }

  /** Decode ids to text (special tokens skipped). */
  decode(ids: readonly number[]): string {
    return this.tk.decode([...ids], { skip_special_tokens: true });
  }
}
