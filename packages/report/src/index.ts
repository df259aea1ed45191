/**
 * @distillery/report — charts of the compression workflow, rendered with vega-lite in Node:
 * the latency × accuracy × size trade-off (SVG or HTML with a table) from results.json, and
 * training curves (loss terms + evaluation accuracy) from metrics.jsonl.
 * @packageDocumentation
 */
export { renderSvg, escapeHtml, type TopLevelSpec } from './render.js';
export { readResults, upsertResult, type BenchRecord, type LatencyStats, type ResultsFile } from './results.js';
export {
  tradeoffSpec,
  tradeoffSvg,
  tradeoffHtml,
  tradeoffTable,
  tradeoffMarkdown,
  type TradeoffOptions,
} from './tradeoff.js';
export { curvePoints, trainingCurveSpec, trainingCurvesSvg, type CurvePoint, type CurveOptions } from './curves.js';
export { writeReport, type WriteReportOptions } from './write.js';
