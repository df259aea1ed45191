/**
 * `@distillery/plugin-schedulers`: temperature schedulers `constant`, `flsw`, `cwsm` and weight
 * schedulers `linear_decay`, `linear_growth`.
 * @packageDocumentation
 */
import { definePluginPackage } from '@distillery/core';
import { VERSION } from './common.js';
import { constantTemperature } from './constant.scheduler.js';
import { flswTemperature } from './flsw.scheduler.js';
import { cwsmTemperature } from './cwsm.scheduler.js';
import { linearDecayWeight, linearGrowthWeight } from './linear.weight-scheduler.js';

export { constantTemperature } from './constant.scheduler.js';
export { flswTemperature, flswTau, type FlswOptions } from './flsw.scheduler.js';
export { cwsmTemperature, cwsmTau, type CwsmOptions } from './cwsm.scheduler.js';
export { linearDecayWeight, linearGrowthWeight } from './linear.weight-scheduler.js';
export { VERSION } from './common.js';

export default definePluginPackage({
  name: '@distillery/plugin-schedulers',
  version: VERSION,
  plugins: () => [
    constantTemperature(),
    flswTemperature(),
    cwsmTemperature(),
    linearDecayWeight(),
    linearGrowthWeight(),
  ],
});
