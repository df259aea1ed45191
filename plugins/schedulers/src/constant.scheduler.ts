import type { TemperatureSchedulerPlugin } from '@distillery/core';
import { VERSION } from './common.js';

/**
 * `constant` temperature scheduler (TextBrewer `constant_temperature_scheduler`): returns the
 * base temperature τ0 unchanged, as a number. No options.
 */
export function constantTemperature(): TemperatureSchedulerPlugin {
  return {
    meta: { name: 'constant', version: VERSION, kind: 'temperature-scheduler', description: 'τ = τ0' },
    params: [],
    create: () => (_logitsS, _logitsT, baseTemperature) => baseTemperature,
  };
}
