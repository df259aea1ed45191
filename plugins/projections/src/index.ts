/**
 * `@distillery/plugin-projections`: student→teacher projections `linear`, `relu`, `tanh`.
 * @packageDocumentation
 */
import { definePluginPackage } from '@distillery/core';
import { VERSION } from './projection.js';
import { linearProjection } from './linear.projection.js';
import { reluProjection } from './relu.projection.js';
import { tanhProjection } from './tanh.projection.js';

export { linearProjection } from './linear.projection.js';
export { reluProjection } from './relu.projection.js';
export { tanhProjection } from './tanh.projection.js';
export {
  createProjection,
  projectionPlugin,
  seedFromName,
  INIT_STD,
  VERSION,
  type Activation,
  type ProjectionOptions,
} from './projection.js';

export default definePluginPackage({
  name: '@distillery/plugin-projections',
  version: VERSION,
  plugins: () => [linearProjection(), reluProjection(), tanhProjection()],
});
