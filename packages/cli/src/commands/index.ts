/**
 * Every command of the `distillery` program, in help order. Adding a command: a file in this folder
 * exporting `register(program, ctx)`, and one line here.
 */
import type { CommandModule } from './common.js';
import * as distill from './distill.js';
import * as train from './train.js';
import * as validate from './validate.js';
import * as plugins from './plugins.js';
import * as predict from './predict.js';
import * as schema from './schema.js';
import * as exportCmd from './export.js';
import * as bench from './bench.js';
import * as search from './search.js';
import * as report from './report.js';
import * as cacheTeacher from './cache-teacher.js';
import * as worker from './worker.js';

export const COMMANDS: readonly CommandModule[] = [
  distill,
  train,
  validate,
  plugins,
  predict,
  exportCmd,
  cacheTeacher,
  bench,
  search,
  report,
  worker,
  schema,
];
