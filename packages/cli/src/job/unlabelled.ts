/**
 * Unlabelled text for distillation (`task.unlabelled`): the common recipe of mixing labelled data
 * with more raw text. Unlabelled rows carry label -1 in their batch, and the student's hard-label
 * loss is a mean over the labelled rows only, so they contribute the KD and intermediate terms alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, type Adaptor, type AdaptorOutput, type Logger } from '@distillery/core';
import type { EncodedBatch, Example } from '@distillery/data';
import type { JobConfig } from './schema.js';
import type { TaskData } from './data.js';

/** Load `task.unlabelled` into the task data (checked against the rest of the config first). */
export function addUnlabelled(cfg: JobConfig, data: TaskData, log: Logger): void {
  const u = cfg.task.unlabelled;
  if (!u) return;
  if (cfg.teacher.model.type === 'mlp' || cfg.student.model.type === 'mlp')
    throw new DistilleryError(
      'CONFIG_INVALID',
      'task.unlabelled needs BERT/ONNX models (bag-of-words MLP jobs do not use it)',
      { where: 'task.unlabelled', hint: 'remove task.unlabelled, or use bert models' },
    );
  if (cfg.distillation.probabilityShift)
    throw new DistilleryError(
      'CONFIG_INVALID',
      'distillation.probabilityShift needs a gold label on every row, and task.unlabelled rows have none',
      { where: 'distillation.probabilityShift', hint: 'set probabilityShift: false' },
    );
  data.unlabelled = loadUnlabelled(u);
  log.info(
    `unlabelled: ${data.unlabelled.length} texts from ${typeof u === 'string' ? u : u.path} (KD and intermediate terms only)`,
  );
}

/** `task.unlabelled`: a file path, or the path with the JSONL text field. */
export type UnlabelledConfig = string | { path: string; textField?: string; maxExamples?: number };

/** Read unlabelled texts: `.txt` one per line (blank lines skipped), `.jsonl`/`.ndjson` one object per line. */
export function loadUnlabelled(cfg: UnlabelledConfig): Example[] {
  const { path, textField = 'text', maxExamples } = typeof cfg === 'string' ? { path: cfg } : cfg;
  if (!existsSync(path))
    throw new DistilleryError('FILE_NOT_FOUND', `unlabelled data file ${path} does not exist`, {
      where: 'task.unlabelled',
      hint: 'point task.unlabelled at a .txt (one text per line) or .jsonl file',
    });
  const ext = extname(path).toLowerCase();
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const out: Example[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    if (ext === '.jsonl' || ext === '.ndjson') {
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (e) {
        throw new DistilleryError('DATA_FORMAT', `invalid JSON: ${(e as Error).message}`, {
          where: `${path}:${i + 1}`,
          hint: 'one JSON object per line, e.g. {"text": "..."}',
        });
      }
      const text = (row as Record<string, unknown> | null)?.[textField];
      if (typeof text !== 'string') {
        throw new DistilleryError('DATA_INVALID', `row has no string field "${textField}"`, {
          where: `${path}:${i + 1}`,
          hint: `set task.unlabelled.textField to the field holding the text (row keys: ${Object.keys((row as object) ?? {}).join(', ') || 'none'})`,
        });
      }
      out.push({ text });
    } else if (ext === '.txt' || ext === '') {
      out.push({ text: line });
    } else {
      throw new DistilleryError('DATA_FORMAT', `unlabelled data must be .txt or .jsonl, got "${ext}"`, {
        where: 'task.unlabelled',
        hint: 'one text per line (.txt) or one JSON object per line (.jsonl)',
      });
    }
  });
  if (!out.length)
    throw new DistilleryError('DATA_INVALID', `unlabelled data file ${path} has no texts`, {
      where: 'task.unlabelled',
    });
  return maxExamples ? out.slice(0, maxExamples) : out;
}

/**
 * Mask the hard-label loss of unlabelled rows (label < 0) of sequence-classification batches: the
 * model's mean cross-entropy is replaced by the mean over labelled rows (0 when none is labelled).
 * Token-task labels already use negative = ignore; batches without unlabelled rows are unchanged.
 */
export function maskUnlabelled(adaptor: Adaptor<EncodedBatch, never>): Adaptor<EncodedBatch, never> {
  return (batch, out) => {
    const a: AdaptorOutput = adaptor(batch, out);
    const labels = batch.labels;
    if (!labels || labels.length !== batch.batchSize || !labels.some((l) => l < 0)) return a;
    const logits = (Array.isArray(a.logits) ? a.logits[0] : a.logits) as tf.Tensor2D;
    const y = tf.tensor1d(labels, 'int32');
    const w = tf.cast(tf.greaterEqual(y, 0), 'float32');
    const ce = tf.neg(
      tf.sum(
        tf.mul(tf.oneHot(tf.cast(tf.maximum(y, 0), 'int32') as tf.Tensor1D, logits.shape[1]), tf.logSoftmax(logits)),
        -1,
      ),
    );
    a.losses = [tf.div(tf.sum(tf.mul(ce, w)), tf.maximum(tf.sum(w), 1))];
    return a;
  };
}
