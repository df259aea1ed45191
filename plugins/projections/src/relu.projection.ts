import type { ProjectionPlugin } from '@distillery/core';
import { projectionPlugin } from './projection.js';

/** `relu` projection: y = relu(x·Wᵀ + b); otherwise as `linear`. */
export function reluProjection(): ProjectionPlugin {
  return projectionPlugin('relu', 'y = relu(x·Wᵀ + b)');
}
