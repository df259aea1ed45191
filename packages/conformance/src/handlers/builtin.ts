/**
 * Handlers for the built-in plugins: KD losses, match losses, schedulers and the core logits
 * utilities. Each loss case dispatches through the registry by plugin name, so a registry whose
 * plugin of that name was replaced runs the replacement.
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import { probabilityShift, selectLogitsWithMask } from '@distillery/core';
import { tensorArg, type Handler, type HandlerTable } from './types.js';

/**
 * A handler for a kd-loss plugin: args `logits_S`, `logits_T`, `temperature` (a number or a
 * per-row tensor).
 */
export function kdLossHandler(plugin: string): Handler {
  return (args, h) => {
    const p = h.registry.get('kd-loss', plugin, `case ${h.case.name}`);
    const temperature = args.temperature as number | tf.Tensor;
    return p.compute(
      { logitsS: tensorArg(args, 'logits_S'), logitsT: tensorArg(args, 'logits_T'), temperature },
      h.context(plugin),
    );
  };
}

/**
 * A handler for a match-loss plugin: args `state_S`/`state_T` (or `attention_S`/`attention_T`),
 * one tensor or a pair each, optional `mask` (passed as `maskS`), optional `options`.
 */
export function matchLossHandler(plugin: string): Handler {
  return (args, h) => {
    const p = h.registry.get('match-loss', plugin, `case ${h.case.name}`);
    const stateS = (args.state_S ?? args.attention_S) as tf.Tensor | tf.Tensor[];
    const stateT = (args.state_T ?? args.attention_T) as tf.Tensor | tf.Tensor[];
    if (stateS === undefined || stateT === undefined)
      throw new Error('a match-loss case needs state_S/state_T or attention_S/attention_T');
    return p.compute(
      {
        stateS,
        stateT,
        ...(args.mask !== undefined ? { maskS: args.mask as tf.Tensor } : {}),
        ...(args.options !== undefined ? { options: args.options as Record<string, unknown> } : {}),
        where: `case ${h.case.name}`,
      },
      h.context(plugin),
    );
  };
}

/** Scheduler options in a case's args (TextBrewer names): beta, gamma, eps. */
function schedulerOptions(args: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of ['beta', 'gamma', 'eps']) if (args[k] !== undefined) o[k] = args[k];
  return o;
}

/**
 * A handler for a temperature-scheduler plugin: args `logits_S`, `logits_T`, `base_temperature`,
 * plus its options (`beta`, `gamma`, `eps`). Returns the temperature (number or tensor).
 */
export function temperatureSchedulerHandler(plugin: string): Handler {
  return (args, h) => {
    const fn = h.registry
      .get('temperature-scheduler', plugin, `case ${h.case.name}`)
      .create(schedulerOptions(args), h.context(plugin));
    return fn(tensorArg(args, 'logits_S'), tensorArg(args, 'logits_T'), args.base_temperature as number);
  };
}

/** A handler for a weight-scheduler plugin: arg `x` (training progress). */
export function weightSchedulerHandler(plugin: string): Handler {
  return (args, h) => h.registry.get('weight-scheduler', plugin, `case ${h.case.name}`).schedule(args.x as number);
}

/**
 * KD loss with a scheduled temperature (`kd_ce_loss+flsw`): the temperature scheduler's result
 * for (logits_S, logits_T, base_temperature) is passed to the KD loss.
 */
export function scheduledKdHandler(loss: string, scheduler: string): Handler {
  return (args, h) => {
    const temperature = temperatureSchedulerHandler(scheduler)(args, h) as number | tf.Tensor;
    return kdLossHandler(loss)({ ...args, temperature }, h);
  };
}

/** The TextBrewer `fn` names of the built-in plugins and utilities. */
export const builtinHandlers: HandlerTable = {
  kd_ce_loss: kdLossHandler('ce'),
  kd_mse_loss: kdLossHandler('mse'),
  'kd_ce_loss+flsw': scheduledKdHandler('ce', 'flsw'),
  att_mse_loss: matchLossHandler('attention_mse'),
  att_mse_sum_loss: matchLossHandler('attention_mse_sum'),
  att_ce_loss: matchLossHandler('attention_ce'),
  att_ce_mean_loss: matchLossHandler('attention_ce_mean'),
  hid_mse_loss: matchLossHandler('hidden_mse'),
  cos_loss: matchLossHandler('cos'),
  pkd_loss: matchLossHandler('pkd'),
  fsp_loss: matchLossHandler('fsp'),
  mmd_loss: matchLossHandler('mmd'),
  constant_temperature_scheduler: temperatureSchedulerHandler('constant'),
  flsw_temperature_scheduler: temperatureSchedulerHandler('flsw'),
  cwsm_temperature_scheduler: temperatureSchedulerHandler('cwsm'),
  linear_decay_weight_scheduler: weightSchedulerHandler('linear_decay'),
  linear_growth_weight_scheduler: weightSchedulerHandler('linear_growth'),
  probability_shift_: (args) => probabilityShift(tensorArg(args, 'tensor'), tensorArg(args, 'labels')),
  select_logits_with_mask: (args) =>
    selectLogitsWithMask(args.logits_list as tf.Tensor[], args.masks_list as tf.Tensor[]),
};
