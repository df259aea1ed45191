/**
 * A trained student as a Hugging Face folder (what `distillery bench` and `predict` load): the same
 * architecture the job built, the weights of the checkpoint the run selected, the teacher's tokenizer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DistilleryError, listCheckpoints, loadCheckpoint } from '@distillery/core';
import { BertForSequenceClassification, makeStudentConfig, readHfConfig, saveHfModel } from '@distillery/models';
import type { JobConfig } from '@distillery/cli';

/**
 * The checkpoint a run selected: the last one metrics.jsonl marks `best` (the run kept its best model
 * on validation, as `distill` and `--baseline` do), else the last checkpoint.
 */
export function selectedCheckpoint(runDir: string): string {
  const ckpts = listCheckpoints(runDir);
  if (!ckpts.length) throw new DistilleryError('FILE_NOT_FOUND', 'the run wrote no checkpoint', { where: runDir });
  const log = join(runDir, 'metrics.jsonl');
  let best: string | undefined;
  if (existsSync(log)) {
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      if (!line.includes('"checkpoint"')) continue;
      const r = JSON.parse(line) as { type?: string; path?: string; best?: boolean };
      if (r.type === 'checkpoint' && r.best && r.path && ckpts.includes(basename(r.path))) best = basename(r.path);
    }
  }
  return join(runDir, best ?? ckpts.at(-1)!);
}

/** Export the selected checkpoint of `runDir` (a run of `cfg`'s student) to `outDir`; returns outDir. */
export async function exportStudent(cfg: JobConfig, runDir: string, outDir: string): Promise<string> {
  const t = cfg.teacher.model;
  const s = cfg.student.model;
  if (t.type !== 'bert' || !t.pretrained || s.type !== 'bert')
    throw new DistilleryError('CONFIG_INVALID', 'the workflow needs a pretrained BERT teacher and a BERT student', {
      where: 'teacher.model / student.model',
    });
  const checkpoint = selectedCheckpoint(runDir);
  const config = makeStudentConfig(readHfConfig(t.pretrained), {
    ...(s.numHiddenLayers ? { numHiddenLayers: s.numHiddenLayers } : {}),
    ...(s.hiddenSize ? { hiddenSize: s.hiddenSize } : {}),
    ...(s.numAttentionHeads ? { numAttentionHeads: s.numAttentionHeads } : {}),
    ...(s.intermediateSize ? { intermediateSize: s.intermediateSize } : {}),
  });
  const student = new BertForSequenceClassification(config);
  try {
    await loadCheckpoint(checkpoint, new Map(Object.entries(student.parameters())));
    await saveHfModel(student, outDir, { copyTokenizerFrom: t.pretrained });
  } finally {
    student.dispose();
  }
  return outDir;
}
