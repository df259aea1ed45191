/**
 * Every DI token of the plugin system, typed, in one module. The registry's tsyringe container is the
 * one store of plugins: each plugin is a factory provider under its kind token (all plugins of a kind)
 * and under one name token per name and alias (what `registry.get(kind, name)` resolves). Plugins never
 * see the container; they get a {@link PluginContext} built by {@link PLUGIN_CONTEXT_TOKEN}'s factory
 * from the container that resolves it — so a run's child container scopes the logger and step info.
 * @packageDocumentation
 */
import type { InjectionToken } from 'tsyringe';
import type { PluginRegistry } from './registry.js';
import type { Logger, PluginByKind, PluginContext, PluginKind, StepInfo } from './types.js';

/** Token of each plugin kind: `container.resolveAll(PLUGIN_TOKENS[kind])` yields every plugin registered for it. */
export const PLUGIN_TOKENS: { readonly [K in PluginKind]: InjectionToken<PluginByKind[K]> } = {
  'kd-loss': Symbol.for('distillery.kd-loss'),
  'match-loss': Symbol.for('distillery.match-loss'),
  projection: Symbol.for('distillery.projection'),
  'temperature-scheduler': Symbol.for('distillery.temperature-scheduler'),
  'weight-scheduler': Symbol.for('distillery.weight-scheduler'),
  callback: Symbol.for('distillery.callback'),
};

/**
 * Token of the plugin of `kind` that answers to `name` (canonical name or alias). Registering another
 * provider under it — in a run's child container, say — swaps the plugin for that run only:
 * `registry.child().container.register(pluginToken('kd-loss', 'ce'), { useFactory: () => myCe })`.
 */
export function pluginToken<K extends PluginKind>(kind: K, name: string): InjectionToken<PluginByKind[K]> {
  // Symbol.for: the same token from any copy of the core loaded in the process.
  return Symbol.for(`distillery.${kind}:${name}`);
}

/** Token of the run's logger (plugins get `logger.child(pluginName)`). */
export const LOGGER_TOKEN: InjectionToken<Logger> = Symbol.for('distillery.logger');
/** Token of the training position (undefined outside training); the run's registry provides it. */
export const STEP_TOKEN: InjectionToken<StepInfo | undefined> = Symbol.for('distillery.step');
/** Token of the plugin registry that owns the container. */
export const REGISTRY_TOKEN: InjectionToken<PluginRegistry> = Symbol.for('distillery.registry');

/** Builds the context handed to plugin `name`; `step` overrides the scope's {@link STEP_TOKEN}. */
export type PluginContextFactory = (name: string, step?: StepInfo) => PluginContext;
/** Token of the {@link PluginContextFactory} of a container (resolved through the run's child container). */
export const PLUGIN_CONTEXT_TOKEN: InjectionToken<PluginContextFactory> = Symbol.for('distillery.plugin-context');
