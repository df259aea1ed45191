/**
 * Loading a tokenizer from a Hugging Face model folder, and writing the files of a WordPiece one.
 * @packageDocumentation
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DistilleryError } from '@distillery/core';
import type { TextTokenizer } from './base.tokenizer.js';
import { HfJsonTokenizer } from './hf.tokenizer.js';
import { WordPieceTokenizer, type WordPieceOptions } from './wordpiece.tokenizer.js';

/** Options of {@link loadTokenizer}. */
export interface LoadTokenizerOptions {
  /**
   * `auto` (default): `tokenizer.json` through `@huggingface/tokenizers` when present, else `vocab.txt`.
   * `hf`: require `tokenizer.json`. `wordpiece`: the built-in WordPiece (vocab from `vocab.txt`, or `tokenizer.json`'s model).
   */
  implementation?: 'auto' | 'hf' | 'wordpiece';
  maxLength?: number;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new DistilleryError('IO_READ_FAILED', `cannot read JSON: ${(err as Error).message}`, {
      where: path,
      cause: err,
    });
  }
}

/** Built-in WordPiece options from `tokenizer_config.json` (do_lower_case, strip_accents, model_max_length…). */
export function wordPieceOptionsFromConfig(cfg: Record<string, unknown>): WordPieceOptions {
  const o: WordPieceOptions = {};
  if (typeof cfg.do_lower_case === 'boolean') o.lowercase = cfg.do_lower_case;
  o.stripAccents = typeof cfg.strip_accents === 'boolean' ? cfg.strip_accents : (o.lowercase ?? true);
  if (typeof cfg.tokenize_chinese_chars === 'boolean') o.handleChineseChars = cfg.tokenize_chinese_chars;
  if (typeof cfg.model_max_length === 'number' && cfg.model_max_length < 1e6) o.maxLength = cfg.model_max_length;
  for (const [k, key] of [
    ['unk_token', 'unkToken'],
    ['cls_token', 'clsToken'],
    ['sep_token', 'sepToken'],
    ['pad_token', 'padToken'],
    ['mask_token', 'maskToken'],
  ] as const) {
    if (typeof cfg[k] === 'string') o[key] = cfg[k];
  }
  return o;
}

/** Load the tokenizer of a Hugging Face model folder (`tokenizer.json` and/or `vocab.txt`, `tokenizer_config.json`). */
export function loadTokenizer(dir: string, opts: LoadTokenizerOptions = {}): TextTokenizer {
  const impl = opts.implementation ?? 'auto';
  const jsonPath = join(dir, 'tokenizer.json');
  const vocabPath = join(dir, 'vocab.txt');
  const cfgPath = join(dir, 'tokenizer_config.json');
  const cfg = existsSync(cfgPath) ? readJson(cfgPath) : {};
  if (impl !== 'wordpiece' && existsSync(jsonPath))
    return new HfJsonTokenizer(readJson(jsonPath), cfg, opts.maxLength, jsonPath);
  if (impl === 'hf') throw new DistilleryError('TOKENIZER_MISSING', 'no tokenizer.json', { where: dir });
  const wp = {
    ...wordPieceOptionsFromConfig(cfg),
    ...(opts.maxLength !== undefined ? { maxLength: opts.maxLength } : {}),
  };
  if (existsSync(vocabPath)) return WordPieceTokenizer.fromVocabFile(vocabPath, wp);
  if (existsSync(jsonPath)) {
    const json = readJson(jsonPath);
    const model = json.model as { type?: string; vocab?: Record<string, number> } | undefined;
    if (model?.type !== 'WordPiece' || !model.vocab) {
      throw new DistilleryError(
        'TOKENIZER_UNSUPPORTED',
        `the built-in tokenizer needs a WordPiece model, found ${model?.type}`,
        { where: jsonPath },
      );
    }
    const vocab: string[] = [];
    for (const [tok, id] of Object.entries(model.vocab)) vocab[id] = tok;
    const trunc = (json.truncation as { max_length?: number } | null)?.max_length;
    return new WordPieceTokenizer(vocab, {
      ...wp,
      ...(trunc && opts.maxLength === undefined ? { maxLength: trunc } : {}),
    });
  }
  throw new DistilleryError('TOKENIZER_MISSING', 'no tokenizer.json or vocab.txt in the model folder', {
    where: dir,
    hint: 'copy the tokenizer files of the teacher, or build a vocabulary with buildWordPieceVocab()',
  });
}

/**
 * The files of a Hugging Face BERT tokenizer for a {@link WordPieceTokenizer}: `vocab.txt`,
 * `tokenizer_config.json` and a `tokenizer.json` (BertNormalizer, BertPreTokenizer, WordPiece,
 * `[CLS] $A [SEP]`), so Python `transformers`/`tokenizers` load it unchanged.
 */
export function wordPieceTokenizerFiles(tok: WordPieceTokenizer): Record<string, string> {
  const o = tok.options;
  const specials = [o.padToken, o.unkToken, o.clsToken, o.sepToken, o.maskToken].filter(
    (t) => tok.tokenToId(t) !== undefined,
  );
  const cls = tok.tokenToId(o.clsToken)!;
  const sep = tok.tokenToId(o.sepToken)!;
  const json = {
    version: '1.0',
    truncation: { direction: 'Right', max_length: tok.maxLength, strategy: 'LongestFirst', stride: 0 },
    padding: {
      strategy: 'BatchLongest',
      direction: 'Right',
      pad_to_multiple_of: null,
      pad_id: tok.padId,
      pad_type_id: 0,
      pad_token: o.padToken,
    },
    added_tokens: specials
      .map((t) => ({
        id: tok.tokenToId(t)!,
        content: t,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      }))
      .sort((a, b) => a.id - b.id),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: o.cleanText,
      handle_chinese_chars: o.handleChineseChars,
      strip_accents: o.stripAccents,
      lowercase: o.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: o.clsToken, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: o.sepToken, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: o.clsToken, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: o.sepToken, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: o.sepToken, type_id: 1 } },
      ],
      special_tokens: {
        [o.clsToken]: { id: o.clsToken, ids: [cls], tokens: [o.clsToken] },
        [o.sepToken]: { id: o.sepToken, ids: [sep], tokens: [o.sepToken] },
      },
    },
    decoder: { type: 'WordPiece', prefix: o.continuingSubwordPrefix, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: o.unkToken,
      continuing_subword_prefix: o.continuingSubwordPrefix,
      max_input_chars_per_word: o.maxInputCharsPerWord,
      vocab: Object.fromEntries(tok.vocab.map((t, i) => [t, i])),
    },
  };
  const config = {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: o.lowercase,
    strip_accents: o.stripAccents,
    tokenize_chinese_chars: o.handleChineseChars,
    model_max_length: tok.maxLength,
    unk_token: o.unkToken,
    sep_token: o.sepToken,
    pad_token: o.padToken,
    cls_token: o.clsToken,
    mask_token: o.maskToken,
    clean_up_tokenization_spaces: true,
  };
  return {
    'vocab.txt': tok.vocab.join('\n') + '\n',
    'tokenizer.json': JSON.stringify(json, null, 2) + '\n',
    'tokenizer_config.json': JSON.stringify(config, null, 2) + '\n',
  };
}
