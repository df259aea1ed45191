import type { InjectionToken } from 'tsyringe';
import type { PluginByKind, PluginKind, Logger } from './types.js';

/** DI token of each plugin kind. Internal to the core: plugins never see the container. */
export const PLUGIN_TOKENS: { readonly [K in PluginKind]: InjectionToken<PluginByKind[K]> } = {
  'kd-loss': Symbol.for('distillery.kd-loss'),
  'match-loss': Symbol.for('distillery.match-loss'),
  projection: Symbol.for('distillery.projection'),
  'temperature-scheduler': Symbol.for('distillery.temperature-scheduler'),
  'weight-scheduler': Symbol.for('distillery.weight-scheduler'),
  callback: Symbol.for('distillery.callback'),
};

/** Token of the run's logger. */
export const LOGGER_TOKEN: InjectionToken<Logger> = Symbol.for('distillery.logger');
/** Token of the run's plugin registry. */
export const REGISTRY_TOKEN = Symbol.for('distillery.registry');
