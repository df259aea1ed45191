/**
 * `teachers: [{ model, weight? }, ...]` in a job: the extra teachers of a MultiTeacherDistiller run.
 * Every teacher is pretrained (a BERT folder or an ONNX file), reads the same tokenization as the
 * first (the batches are built once) and has the same label ids (its logits are averaged).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DistilleryError, type DistillModel } from '@distillery/core';
import { readHfConfig } from '@distillery/models';
import type { JobConfig, ModelConfig } from './schema.js';
import type { Kit } from './kits.js';
import { onnxTeacherFiles } from './onnx.kit.js';

/** The folder holding a pretrained/ONNX teacher's tokenizer and config.json. */
export function teacherFolder(m: ModelConfig, where: string): string {
  if (m.type === 'onnx') return onnxTeacherFiles(m).tokenizerDir;
  if (m.type === 'bert' && m.pretrained) return m.pretrained;
  throw new DistilleryError(
    'CONFIG_INVALID',
    `${where} must be a pretrained teacher (a BERT folder or an ONNX file): several teachers are not trained here`,
    {
      where,
      hint: 'train each teacher first (distillery train), then list their folders: { "model": { "type": "bert", "pretrained": "<dir>" } }',
    },
  );
}

function tokenizerBytes(dir: string): string {
  for (const f of ['tokenizer.json', 'vocab.txt'])
    if (existsSync(join(dir, f))) return readFileSync(join(dir, f), 'utf8');
  return '';
}

/** Check the teachers against the first and build the others (the first is built by the job). */
export async function buildOtherTeachers<B>(cfg: JobConfig, kit: Kit<B>, seed: number): Promise<DistillModel<B>[]> {
  const list = cfg.teachers!;
  const dirs = list.map((t, i) => teacherFolder(t.model, `teachers[${i}].model`));
  const tok0 = tokenizerBytes(dirs[0]!);
  const labels0 = existsSync(join(dirs[0]!, 'config.json')) ? readHfConfig(dirs[0]!).id2label : undefined;
  const out: DistillModel<B>[] = [];
  for (let i = 1; i < list.length; i++) {
    if (tokenizerBytes(dirs[i]!) !== tok0) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        `teachers[${i}] tokenizes differently from teachers[0] (${dirs[i]} vs ${dirs[0]})`,
        {
          where: `teachers[${i}].model`,
          hint: 'the teachers of one job share the batches, so they need the same tokenizer files; distil from each separately otherwise',
        },
      );
    }
    const labels = existsSync(join(dirs[i]!, 'config.json')) ? readHfConfig(dirs[i]!).id2label : undefined;
    if (labels0 && labels && labels.join('\n') !== labels0.join('\n')) {
      throw new DistilleryError(
        'LABELS_MISMATCH',
        `teachers[${i}]'s id2label differs from teachers[0]'s: their logits cannot be averaged`,
        { where: `teachers[${i}].model`, hint: 'use teachers trained on the same label space (same id2label)' },
      );
    }
    out.push(await kit.build(list[i]!.model, seed, 'teacher'));
  }
  return out;
}
