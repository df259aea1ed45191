import { DistilleryError, type WeightSchedulerPlugin } from '@distillery/core';
import { VERSION } from './common.js';

function checkProgress(x: number, name: string): void {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new DistilleryError(
      'INVALID_INPUT',
      `weight scheduler "${name}": progress must be a finite number in [0, 1], got ${String(x)}`,
    );
  }
}

/**
 * `linear_decay` weight scheduler (TextBrewer `linear_decay_weight_scheduler`): w(x) = 1 − x for
 * progress x = globalStep / totalSteps. The result **replaces** the configured weight.
 */
export function linearDecayWeight(): WeightSchedulerPlugin {
  return {
    meta: { name: 'linear_decay', version: VERSION, kind: 'weight-scheduler', description: 'w = 1 − x' },
    schedule(x) {
      checkProgress(x, 'linear_decay');
      return 1 - x;
    },
  };
}

/**
 * `linear_growth` weight scheduler (TextBrewer `linear_growth_weight_scheduler`): w(x) = x. The
 * result **replaces** the configured weight.
 */
export function linearGrowthWeight(): WeightSchedulerPlugin {
  return {
    meta: { name: 'linear_growth', version: VERSION, kind: 'weight-scheduler', description: 'w = x' },
    schedule(x) {
      checkProgress(x, 'linear_growth');
      return x;
    },
  };
}
