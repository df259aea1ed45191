/**
 * @distillery/cli — the `distillery` command and its programmatic API (run a job from a config,
 * validate configs, the job JSON Schema).
 * @packageDocumentation
 */
export { main, buildProgram } from './bin.js';
export { loadJobConfig, validateCommand } from './commands/validate.js';
export { pluginsCommand } from './commands/plugins.js';
export { predictCommand, readPredictInputs } from './commands/predict.js';
export { exportCommand, type ExportCommandOptions } from './commands/export.js';
export { benchCommand, benchExamples, type BenchCommandOptions } from './commands/bench.js';
export { searchCommand, type SearchCommandOptions, type SearchResult } from './commands/search.js';
export { SEARCH_PARAMS, applySearchParams, objectiveOf, intermediateOf } from './job/search-params.js';
export { reportCommand, gainHtml, type ReportCommandOptions } from './commands/report.js';
export {
  runBaseline,
  kdGain,
  splitGain,
  formatGain,
  meanStd,
  type KdGain,
  type SplitGain,
  type BaselineContext,
} from './job/baseline.js';
export {
  runJob,
  formatSummary,
  countParams,
  type JobSummary,
  type ModelReport,
  type RunJobOptions,
} from './job/run.js';
export { JobConfigSchema, jobJsonSchema, type JobConfig, type DataConfig, type ModelConfig } from './job/schema.js';
export { loadTaskData, type TaskData } from './job/data.js';
export { featurize, tokenize, messageBody } from './job/text-features.js';
export {
  attachProgress,
  progressHook,
  RunProgress,
  StepTimer,
  formatDuration,
  formatMetrics,
  type EvalProgress,
  type RunProgressOptions,
} from './progress.js';
export { defaultConfigPath, mlpDemoConfigPath } from './default-config.js';
export { runDemo, type RunDemoOptions, type DemoResult } from './demo/run-demo.js';
export { chooseBudget, applyBudget, type DemoBudget } from './demo/budget.js';
export { formatDemoTable, DEMO_LABELS } from './demo/table.js';
export { teacherCacheKey } from './demo/cache.js';
