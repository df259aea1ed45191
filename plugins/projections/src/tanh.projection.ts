import type { ProjectionPlugin } from '@distillery/core';
import { projectionPlugin } from './projection.js';

/** `tanh` projection: y = tanh(x·Wᵀ + b); otherwise as `linear`. */
export function tanhProjection(): ProjectionPlugin {
  return projectionPlugin('tanh', 'y = tanh(x·Wᵀ + b)');
}
