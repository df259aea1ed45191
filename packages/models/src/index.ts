/**
 * @distillery/models — BERT in tfjs-core with Hugging Face safetensors load/save, student builders
 * and ready-made adaptors.
 * @packageDocumentation
 */
export * from './bert/bert.config.js';
export * from './bert/params.js';
export * from './bert/layers.js';
export * from './bert/weights.js';
export * from './bert/encoder.js';
export * from './bert/bert.model.js';
export * from './bert/hf.files.js';
export * from './bert/hf.io.js';
export * from './bert/student.js';
export * from './bert/adaptors.js';
export * from './eval/predict.js';
export * from './eval/clinc.js';
export type { EncodedBatch } from '@distillery/data';
