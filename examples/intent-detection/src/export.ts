/**
 * A trained student as a Hugging Face folder (what `distillery bench` and `predict` load): the same
 * architecture the job built, the weights of its last checkpoint, the teacher's tokenizer.
 */
import { join } from 'node:path';
import { DistilleryError, listCheckpoints, loadCheckpoint } from '@distillery/core';
import { BertForSequenceClassification, makeStudentConfig, readHfConfig, saveHfModel } from '@distillery/models';
import type { JobConfig } from '@distillery/cli';

/** Export the last checkpoint of `runDir` (a run of `cfg`'s student) to `outDir`; returns outDir. */
export async function exportStudent(cfg: JobConfig, runDir: string, outDir: string): Promise<string> {
  const t = cfg.teacher.model;
  const s = cfg.student.model;
  if (t.type !== 'bert' || !t.pretrained || s.type !== 'bert') throw new DistilleryError('CONFIG_INVALID', 'the workflow needs a pretrained BERT teacher and a BERT student', { where: 'teacher.model / student.model' });
  const ckpts = listCheckpoints(runDir);
  if (!ckpts.length) throw new DistilleryError('FILE_NOT_FOUND', 'the run wrote no checkpoint', { where: runDir });
  const config = makeStudentConfig(readHfConfig(t.pretrained), {
    ...(s.numHiddenLayers ? { numHiddenLayers: s.numHiddenLayers } : {}),
    ...(s.hiddenSize ? { hiddenSize: s.hiddenSize } : {}),
    ...(s.numAttentionHeads ? { numAttentionHeads: s.numAttentionHeads } : {}),
    ...(s.intermediateSize ? { intermediateSize: s.intermediateSize } : {}),
  });
  const student = new BertForSequenceClassification(config);
  try {
    await loadCheckpoint(join(runDir, ckpts.at(-1)!), new Map(Object.entries(student.parameters())));
    await saveHfModel(student, outDir, { copyTokenizerFrom: t.pretrained });
  } finally {
    student.dispose();
  }
  return outDir;
}
