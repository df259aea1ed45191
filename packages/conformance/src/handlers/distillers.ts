import type { HandlerTable } from './types.js';

/**
 * Handlers for the distiller cases (`BasicDistiller.compute_loss`, `GeneralDistiller.compute_loss`,
 * `MultiTeacherDistiller.train_on_batch`, `BasicDistiller.train`, `MultiTaskDistiller.train`, …).
 *
 * **The lead fills this record** (it belongs with the distillers in `@distillery/core`). Until a
 * `fn` has an entry here, its cases are counted as skipped and named in the runner's output.
 */
export const distillerHandlers: HandlerTable = {};
