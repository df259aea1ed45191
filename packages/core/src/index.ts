/**
 * @distillery/core — configs, plugin registry, events and distillers.
 * @packageDocumentation
 */
import 'reflect-metadata';
export * as tf from '@tensorflow/tfjs-core';
export * from './plugin/types.js';
export * from './plugin/registry.js';
export { PLUGIN_TOKENS, LOGGER_TOKEN, REGISTRY_TOKEN } from './plugin/tokens.js';
export * from './util/errors.js';
export * from './util/logger.js';
export * from './model/types.js';
export * from './util/shared.js';
export * from './config/index.js';
export * from './tensor/index.js';
export * from './io/index.js';
