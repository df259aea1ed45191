/**
 * `@distillery/plugin-loss-relation`: relation match losses `pkd`, `fsp` (alias `gram`),
 * `nst` (alias `mmd`) and MiniLM's self-attention relation loss `minilm`.
 * @packageDocumentation
 */
import { definePluginPackage } from '@distillery/core';
import { VERSION } from './common.js';
import { pkdLoss } from './pkd.loss.js';
import { fspLoss } from './fsp.loss.js';
import { nstLoss } from './nst.loss.js';
import { miniLmLoss } from './minilm.loss.js';

export { pkd, pkdLoss } from './pkd.loss.js';
export { fsp, fspLoss } from './fsp.loss.js';
export { nst, nstLoss } from './nst.loss.js';
export { miniLm, miniLmLoss, type MiniLmOptions } from './minilm.loss.js';
export { VERSION } from './common.js';

export default definePluginPackage({
  name: '@distillery/plugin-loss-relation',
  version: VERSION,
  plugins: () => [pkdLoss(), fspLoss(), nstLoss(), miniLmLoss()],
});
