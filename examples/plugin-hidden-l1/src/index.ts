/**
 * An example third-party plugin package. Its one entry point is the default export; a config
 * loads it with `"plugins": ["@distillery/example-plugin-hidden-l1"]` and uses `"loss": "hidden_l1"`.
 * @packageDocumentation
 */
import { definePluginPackage } from '@distillery/core';
import { hiddenL1Loss } from './hidden-l1.loss.js';

export { hiddenL1Loss };
export default definePluginPackage({ name: '@distillery/example-plugin-hidden-l1', version: '0.1.0', plugins: () => [hiddenL1Loss()] });
