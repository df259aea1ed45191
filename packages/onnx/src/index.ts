/**
 * @distillery/onnx — ONNX Runtime teachers, ONNX export of BERT students, int8/fp16 quantization,
 * and a fast inference path (`createClassifier`).
 * @packageDocumentation
 */
export * from './proto.js';
export * from './session.js';
export * from './teacher.js';
export * from './export/builder.js';
export * from './export/bert.js';
export * from './export/write.js';
export * from './quantize/int8.js';
export * from './quantize/fp16.js';
export * from './runtime/predict.js';
export * from './runtime/classifier.js';
export * from './export/tfjs-graph.js';
export * from './export/tfjs-write.js';
