/**
 * PerformanceBenchmark (accuracy / size / latency / throughput) and its model loaders.
 * @packageDocumentation
 */
export {
  PerformanceBenchmark,
  formatBenchRecord,
  type PerformanceBenchmarkOptions,
  type AccuracyResult,
} from './benchmark.js';
export {
  tfjsClassifier,
  loadClassifier,
  type Classifier,
  type Runtime,
  type TfjsClassifierOptions,
} from './classifier.js';
export { latencyStats, percentile } from './stats.js';
export { interleavedLatency, type InterleavedLatencyOptions } from './interleaved.js';
export { modelSizeMB, weightsFile } from './size.js';
