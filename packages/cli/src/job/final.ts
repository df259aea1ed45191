/**
 * The deployable result of a run: `<outputDir>/final/`, the selected student as a Hugging Face
 * folder without projection keys — config.json (with id2label/label2id), model.safetensors, the
 * tokenizer files and a README.md saying how it was made and how it scored. Written into a
 * temporary folder and renamed, like checkpoints.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  MlpClassifier,
  distilleryVersion,
  writeFileAtomic,
  writeSafetensors,
  type DistillModel,
  type SafetensorsInput,
} from '@distillery/core';
import { BertBase, saveHfModel } from '@distillery/models';
import type { LabelMap } from '@distillery/data';

/** What the README of the final folder reports. */
export interface FinalReport {
  task: string;
  strategy: string;
  teacher: string;
  steps: number;
  /** How the student was selected. */
  selected: { kind: 'best' | 'last'; step: number; metric?: string; value?: number; split?: string };
  testAccuracy: number;
  parameters: number;
  configFile?: string;
  distillation: unknown;
}

function readme(r: FinalReport, isBert: boolean): string {
  const sel =
    r.selected.kind === 'best'
      ? `the best checkpoint by ${r.selected.metric} on the ${r.selected.split} split (step ${r.selected.step}: ${r.selected.value!.toFixed(4)})`
      : `the last step (${r.selected.step})`;
  return [
    `# Distilled student — ${r.task}`,
    '',
    `Made by Distillery ${distilleryVersion()} with ${r.strategy} from a ${r.teacher} teacher, ${r.steps} optimizer steps${r.configFile ? ` (config: \`${r.configFile}\`)` : ''}.`,
    `This folder holds ${sel}.`,
    '',
    '| metric | value |',
    '| --- | ---: |',
    `| test accuracy | ${(100 * r.testAccuracy).toFixed(2)} % |`,
    ...(r.selected.kind === 'best'
      ? [`| ${r.selected.split} ${r.selected.metric} (selection) | ${r.selected.value!.toFixed(4)} |`]
      : []),
    `| parameters | ${r.parameters.toLocaleString('en-US')} |`,
    '',
    'Distillation settings:',
    '',
    '```json',
    JSON.stringify(r.distillation, null, 2),
    '```',
    '',
    isBert
      ? 'Use it with `distillery predict --model <this folder> --input texts.txt`, or `from_pretrained(<this folder>)` in Hugging Face transformers.'
      : 'An MLP over hashed bag-of-words features (`distillery` CLI job); `config.json` lists its shape and labels.',
    '',
  ].join('\n');
}

/**
 * The run truncated inputs at `task.maxLength`: a copied teacher tokenizer may say more, so the
 * folder records the run's limit (predict then tokenizes exactly as the run's evaluation did).
 */
async function recordMaxLength(dir: string, maxLength: number): Promise<void> {
  const cfgFile = join(dir, 'tokenizer_config.json');
  const cfg = existsSync(cfgFile) ? (JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>) : {};
  await writeFileAtomic(cfgFile, JSON.stringify({ ...cfg, model_max_length: maxLength }, null, 2) + '\n');
  const jsonFile = join(dir, 'tokenizer.json');
  if (!existsSync(jsonFile)) return;
  const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as { truncation?: { max_length?: number } | null };
  if (json.truncation) {
    json.truncation.max_length = maxLength;
    await writeFileAtomic(jsonFile, JSON.stringify(json, null, 2) + '\n');
  }
}

/** Write `<outputDir>/final/` for `student`; returns its path. */
export async function writeFinalFolder(o: {
  outputDir: string;
  student: DistillModel<unknown>;
  labels: LabelMap;
  tokenizerFrom?: string;
  tokenizerFiles?: Record<string, string>;
  /** Token limit the student was trained and evaluated with (recorded in the tokenizer files). */
  maxLength?: number;
  report: FinalReport;
}): Promise<string> {
  const final = join(o.outputDir, 'final');
  const tmp = join(o.outputDir, `.final.${process.pid}.${randomBytes(3).toString('hex')}.tmp`);
  mkdirSync(tmp, { recursive: true });
  const isBert = o.student instanceof BertBase;
  try {
    if (o.student instanceof BertBase) {
      await saveHfModel(o.student, tmp, {
        copyTokenizerFrom: o.tokenizerFrom,
        tokenizerFiles: o.tokenizerFrom ? undefined : o.tokenizerFiles,
        metadata: { writer: 'distillery' },
      });
      if (o.maxLength) await recordMaxLength(tmp, o.maxLength);
    } else {
      const tensors: Record<string, SafetensorsInput> = {};
      for (const [name, v] of Object.entries(o.student.parameters()))
        tensors[name] = { data: (await v.data()) as Float32Array, shape: v.shape };
      await writeSafetensors(join(tmp, 'model.safetensors'), tensors, { format: 'pt', writer: 'distillery' });
      const c = o.student instanceof MlpClassifier ? o.student.config : undefined;
      const names = [...o.labels.names];
      const config = {
        architectures: ['DistilleryMlpClassifier'],
        model_type: 'distillery-mlp',
        ...(c ? { input_dim: c.inputDim, hidden: c.hidden, num_labels: c.numLabels, dropout: c.dropout ?? 0 } : {}),
        id2label: Object.fromEntries(names.map((n, i) => [String(i), n])),
        label2id: Object.fromEntries(names.map((n, i) => [n, i])),
      };
      await writeFileAtomic(join(tmp, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    }
    await writeFileAtomic(join(tmp, 'README.md'), readme(o.report, isBert));
    if (existsSync(final)) {
      const old = `${tmp}.old`;
      renameSync(final, old);
      renameSync(tmp, final);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, final);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return final;
}
