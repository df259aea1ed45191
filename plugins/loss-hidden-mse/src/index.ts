/**
 * `@distillery/plugin-loss-hidden-mse`: the `hidden_mse` match loss.
 * @packageDocumentation
 */
import { definePluginPackage } from '@distillery/core';
import { VERSION, hiddenMseLoss } from './hidden-mse.loss.js';

export { hiddenMse, hiddenMseLoss, VERSION } from './hidden-mse.loss.js';

export default definePluginPackage({
  name: '@distillery/plugin-loss-hidden-mse',
  version: VERSION,
  plugins: () => [hiddenMseLoss()],
});
