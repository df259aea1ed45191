/**
 * `@distillery/conformance`: runs reference cases (TextBrewer numbers, or a plugin author's own)
 * against the plugins of a registry.
 * @packageDocumentation
 */
export { runCases, defaultHandlers, summaryLine, type RunOptions, type RunReport, type CaseFailure } from './runner.js';
export {
  loadCases,
  decodeValue,
  decodeTensor,
  isEncodedTensor,
  type CaseFile,
  type ConformanceCase,
  type EncodedTensor,
} from './cases.js';
export { compareValues, toPlain, DEFAULT_TOLERANCE, type Tolerance, type PlainTensor } from './compare.js';
export {
  builtinHandlers,
  kdLossHandler,
  matchLossHandler,
  temperatureSchedulerHandler,
  weightSchedulerHandler,
  scheduledKdHandler,
} from './handlers/builtin.js';
export { distillerHandlers } from './handlers/distillers.js';
export { conformanceMain, type MainIO } from './main.js';
export { tensorArg, type Handler, type HandlerContext, type HandlerTable } from './handlers/types.js';
