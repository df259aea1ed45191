/**
 * A third-party plugin package as published on npm. Its one entry point is the default export; a
 * config loads it with `"plugins": ["distillery-plugin-hidden-l1"]` and uses `"loss": "hidden_l1"`
 * or `"loss": "hidden_smooth_l1"` in an intermediate match.
 * @packageDocumentation
 */
import { definePluginPackage } from '@distillery/core';
import { hiddenL1Loss } from './hidden-l1.loss.js';
import { hiddenSmoothL1Loss } from './smooth-l1.loss.js';

export { hiddenL1Loss, hiddenSmoothL1Loss };
export default definePluginPackage({
  name: 'distillery-plugin-hidden-l1',
  version: '0.1.0',
  plugins: () => [hiddenL1Loss(), hiddenSmoothL1Loss()],
});
