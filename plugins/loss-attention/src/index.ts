/**
 * `@distillery/plugin-loss-attention`: attention match losses `attention_mse`,
 * `attention_mse_sum`, `attention_ce`, `attention_ce_mean` (TextBrewer-compatible by default,
 * `options.exact: true` for the quirk-free forms).
 * @packageDocumentation
 */
import { definePluginPackage } from '@distillery/core';
import { VERSION } from './common.js';
import { attentionMseLoss, attentionMseSumLoss } from './mse.loss.js';
import { attentionCeLoss, attentionCeMeanLoss } from './ce.loss.js';

export { attentionMse, attentionMseSum, attentionMseLoss, attentionMseSumLoss } from './mse.loss.js';
export { attentionCe, attentionCeMean, attentionCeLoss, attentionCeMeanLoss } from './ce.loss.js';
export { VERSION, PAD_THRESHOLD, type AttentionLossOptions } from './common.js';

export default definePluginPackage({
  name: '@distillery/plugin-loss-attention',
  version: VERSION,
  plugins: () => [attentionMseLoss(), attentionMseSumLoss(), attentionCeLoss(), attentionCeMeanLoss()],
});
