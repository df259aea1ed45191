/**
 * `@distillery/plugin-loss-kd`: KD losses on logits (`kdLossType`): `ce`, `mse`, `kl`, `bce`.
 * @packageDocumentation
 */
import { definePluginPackage } from '@distillery/core';
import { VERSION } from './common.js';
import { ceLoss } from './ce.loss.js';
import { mseLoss } from './mse.loss.js';
import { klLoss } from './kl.loss.js';
import { bceLoss } from './bce.loss.js';

export { ceLoss, kdCe } from './ce.loss.js';
export { mseLoss, kdMse } from './mse.loss.js';
export { klLoss, kdKl } from './kl.loss.js';
export { bceLoss, kdBce } from './bce.loss.js';
export { VERSION } from './common.js';

export default definePluginPackage({
  name: '@distillery/plugin-loss-kd',
  version: VERSION,
  plugins: () => [ceLoss(), mseLoss(), klLoss(), bceLoss()],
});
