/**
 * @distillery/onnx — ONNX Runtime teachers, ONNX export of BERT students, int8/fp16 quantization,
 * and a fast inference path (`createClassifier`).
 * @packageDocumentation
 */
export * from './proto.js';
export * from './session.js';
export * from './teacher.js';
