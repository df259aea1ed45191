/**
 * Tensor utilities of the core: logits helpers used by the distillers (probability shift,
 * logits selection by mask) and the input checks shared by the loss plugins.
 *
 * Re-exported from `@distillery/core`.
 * @packageDocumentation
 */
export { probabilityShift, selectLogitsWithMask } from './logits.js';
export {
  checkGradient,
  GRADIENT_TOLERANCE,
  type GradientCheck,
  type GradientCheckOptions,
  type Reference64,
} from './gradcheck.js';
export {
  assertFloat,
  assertRank,
  assertSameShape,
  divByCount,
  maskToFloat,
  shapeToString,
  stopGradient,
  detached,
  type CheckContext,
} from './checks.js';
export { variableGradsFreeing } from './variable-grads.js';
