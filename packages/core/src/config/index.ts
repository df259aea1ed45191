export * from './schema.js';
export * from './validate.js';
export { camelizeKeys, snakeToCamel, formatPath } from './normalize.js';
export { indexJsonPositions, locate, type TextPosition } from './locate.js';
