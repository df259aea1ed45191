/**
 * `@distillery/plugin-loss-cosine`: the `cos` match loss.
 * @packageDocumentation
 */
import { definePluginPackage } from '@distillery/core';
import { VERSION, cosLoss } from './cos.loss.js';

export { cosLoss, cosineLoss, COS_EPS, VERSION } from './cos.loss.js';

export default definePluginPackage({
  name: '@distillery/plugin-loss-cosine',
  version: VERSION,
  plugins: () => [cosLoss()],
});
