import type { ProjectionPlugin } from '@distillery/core';
import { projectionPlugin } from './projection.js';

/**
 * `linear` projection: y = x·Wᵀ + b on the last axis, (…, dimS) → (…, dimT).
 * W (dimT, dimS) ~ N(0, 0.02) seeded, b = 0; trainable variables `<name>/weight`, `<name>/bias`.
 * Options (`proj[3]`): `weight`, `bias` initial values.
 */
export function linearProjection(): ProjectionPlugin {
  return projectionPlugin('linear', 'y = x·Wᵀ + b');
}
