/**
 * Cross-section rules of a job config (applied by JobConfigSchema's `.superRefine`): settings that
 * would otherwise be silently ignored or read the wrong way.
 */
import { extname } from 'node:path';
import type { z } from 'zod';

const FORMAT_OF: Record<string, string> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.json': 'json',
};

interface JobFields {
  task: { data: { type: string; train?: string; test?: string; extendLabels?: boolean } };
  teacher: { model: { type: string; pretrained?: string }; training?: unknown };
  training: { numEpochs?: number; numSteps?: number; ckptSteps: number | null };
}

/**
 * A pretrained teacher is not trained (teacher.training would be ignored); extendLabels needs a pretrained
 * teacher; a data file must match the data type.
 */
export function jobRules(job: JobFields, ctx: z.core.$RefinementCtx): void {
  const t = job.teacher;
  if (t.training !== undefined && t.model.type === 'bert' && t.model.pretrained) {
    ctx.addIssue({
      code: 'custom',
      path: ['teacher', 'training'],
      message: 'a pretrained teacher is not trained: teacher.training would be ignored',
      params: { hint: 'remove teacher.training, or remove teacher.model.pretrained to train a teacher here' },
    });
  }
  // A job is never given numSteps elsewhere: without either it runs 1 epoch (explicit numEpochs: core's rule).
  if (job.training.ckptSteps !== null && job.training.numSteps === undefined && job.training.numEpochs === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['training', 'ckptSteps'],
      message: 'ckptSteps is only used in steps mode (numSteps); in epoch mode it would be ignored',
      params: { hint: 'use ckptFrequency (checkpoints per epoch) / ckptEpochFrequency, or train with numSteps' },
    });
  }
  const d = job.task.data;
  if (d.extendLabels && !(t.model.type === 'bert' && t.model.pretrained)) {
    ctx.addIssue({
      code: 'custom',
      path: ['task', 'data', 'extendLabels'],
      message:
        "extendLabels extends a pretrained teacher's labels; this teacher is trained here on the data's own labels, so it would be ignored",
      params: { hint: 'remove extendLabels, or use a pretrained teacher (teacher.model.pretrained)' },
    });
  }
  // Pair and CoNLL data have their own readers (pairs: JSONL/CSV/TSV; conll: any text file).
  const pairs = d.type === 'pairs';
  if (!pairs && !['jsonl', 'csv', 'tsv', 'json'].includes(d.type)) return;
  for (const key of ['train', 'test'] as const) {
    const file = d[key];
    if (file === undefined) continue;
    const format = FORMAT_OF[extname(file).toLowerCase()];
    const compatible = pairs
      ? format !== 'json'
      : format === d.type || (format === 'csv' && d.type === 'tsv') || (format === 'tsv' && d.type === 'csv');
    if (format && !compatible) {
      ctx.addIssue({
        code: 'custom',
        path: ['task', 'data', key],
        message: `data type is "${d.type}" but ${JSON.stringify(file)} is a ${extname(file)} file`,
        params: { hint: `set task.data.type to "${format}", or point ${key} at a .${d.type} file` },
      });
    }
  }
}
