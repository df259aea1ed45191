/**
 * @distillery/models — BERT, RoBERTa-style and DistilBERT encoders in tfjs-core with Hugging Face safetensors
 * load/save, student builders, ready-made adaptors and task metrics.
 * @packageDocumentation
 */
export * from './bert/bert.config.js';
export * from './bert/params.js';
export * from './bert/layers.js';
export * from './bert/weights.js';
export * from './bert/encoder.js';
export * from './bert/bert.model.js';
export * from './bert/mlm.head.js';
export * from './bert/mlm.model.js';
export * from './bert/hf.files.js';
export * from './bert/hf.io.js';
export * from './bert/student.js';
export * from './bert/adaptors.js';
export * from './bert/tasks.js';
export * from './bert/token-loss.js';
export * from './hf/checkpoint.js';
export * from './hf/named-weights.js';
export * from './hf/encoder.types.js';
export * from './distilbert/distilbert.config.js';
export * from './distilbert/distilbert.weights.js';
export * from './distilbert/distilbert.layers.js';
export * from './distilbert/distilbert.model.js';
export * from './distilbert/distilbert.io.js';
export * from './eval/predict.js';
export * from './eval/clinc.js';
export type { EncodedBatch } from '@distillery/data';
export * from './eval/seqeval.js';
export * from './roberta/roberta.model.js';
export * from './hf/labels.js';
export * from './bert/mlm.adaptor.js';
