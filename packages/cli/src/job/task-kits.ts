/**
 * Task kits chosen by the data type: sentence pairs and token classification bring their own data loading;
 * every other data type goes through `loadTaskData` and the MLP/BERT kits.
 */
import type { EncodedBatch, LabelMap } from '@distillery/data';
import type { Kit } from './kits.js';
import type { JobConfig } from './schema.js';
import { pairKit } from './pair.kit.js';
import { tokenKit } from './token.kit.js';
import { mlmKit } from './mlm.kit.js';

/** What the job log and summary say about a task's data. */
export interface TaskInfo {
  name: string;
  train: number;
  test: number;
  labels: number;
  /** The label names by id (written to the final folder's config.json). */
  labelMap: LabelMap;
}

/** The kit of a pair or CoNLL job, or undefined for the other data types. */
export async function taskKit(cfg: JobConfig): Promise<{ kit: Kit<EncodedBatch>; info: TaskInfo } | undefined> {
  const d = cfg.task.data;
  if (d.type === 'pairs') return pairKit(cfg, d);
  if (d.type === 'conll') return tokenKit(cfg, d);
  if (d.type === 'mlm') return mlmKit(cfg, d);
  return undefined;
}
