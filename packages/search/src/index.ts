/**
 * @distillery/search — hyperparameter search: TPE (Optuna's default) and random samplers, median
 * and successive-halving pruners, studies persisted as JSON with an ask/tell API, and an
 * in-process trial runner.
 * @packageDocumentation
 */
export { parseSpace, validateSpace, clampParam, type ParamSpec, type Params, type SearchSpace } from './space.js';
export {
  RandomSampler,
  TpeSampler,
  defaultGamma,
  defaultWeights,
  type Sampler,
  type TpeOptions,
  type Direction,
} from './samplers.js';
export { ParzenEstimator, type ParzenOptions } from './parzen.js';
export {
  MedianPruner,
  SuccessiveHalvingPruner,
  NopPruner,
  type Pruner,
  type MedianPrunerOptions,
  type SuccessiveHalvingOptions,
} from './pruners.js';
export { Study, makeSampler, makePruner, type StudyOptions, type AskedTrial } from './study.js';
export { optimize, TrialPruned, type TrialHandle, type OptimizeOptions } from './runner.js';
export { steps, lastIntermediate, type Trial, type TrialState } from './trial.js';
