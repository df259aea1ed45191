/**
 * @distillery/data — tokenizers (tokenizer.json via @huggingface/tokenizers, built-in WordPiece),
 * dataset loaders (JSONL, CSV/TSV, JSON, CLINC150), label maps, seeded shuffling and batching.
 * @packageDocumentation
 */
export * from './types.js';
export * from './rng.js';
export * from './labels.js';
export * from './label-space.js';
export * from './batching.js';
export * from './tokenizers/base.tokenizer.js';
export * from './tokenizers/bert.normalizer.js';
export * from './tokenizers/wordpiece.tokenizer.js';
export * from './tokenizers/hf.tokenizer.js';
export * from './tokenizers/load.tokenizer.js';
export * from './tokenizers/vocab.builder.js';
export * from './tokenizers/pair.js';
export * from './loaders/rows.js';
export * from './loaders/text.loaders.js';
export * from './loaders/clinc150.loader.js';
export * from './loaders/pairs.loader.js';
export * from './loaders/conll.loader.js';
export * from './mlm/masking.js';
export * from './mlm/corpus.js';
