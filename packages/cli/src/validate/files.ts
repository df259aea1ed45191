/**
 * Checks that the files and folders a config names exist: data files and folders, pretrained model
 * folders (config.json, weights) and the teacher's tokenizer. A missing folder is one problem, not
 * a cascade of missing files.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckContext, Problem } from './types.js';

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** Data files and folders. */
export function checkData(ctx: CheckContext): Problem[] {
  const d = ctx.config.task.data;
  const out: Problem[] = [];
  if (d.type === 'clinc150') {
    if (!isDir(d.dir))
      out.push({
        path: 'task.data.dir',
        message: `data folder ${d.dir} does not exist`,
        hint: 'point "dir" at the folder holding data_oos_plus.json (relative paths are relative to the config file)',
      });
    else if (!isFile(join(d.dir, 'data_oos_plus.json')))
      out.push({
        path: 'task.data.dir',
        message: `${d.dir} has no data_oos_plus.json`,
        hint: 'download CLINC150 (data_oos_plus.json) into that folder',
      });
  } else if (d.type !== 'spam-assassin') {
    for (const key of ['train', 'test'] as const) {
      const f = d[key];
      // An mlm corpus may be a CLINC150 folder (its texts).
      if (f !== undefined && d.type === 'mlm' && key === 'train' && isDir(f) && isFile(join(f, 'data_oos_plus.json')))
        continue;
      if (f !== undefined && !isFile(f)) {
        out.push({
          path: `task.data.${key}`,
          message: `${key} file ${f} ${existsSync(f) ? 'is a folder, not a file' : 'does not exist'}`,
          hint: 'fix the path (relative paths are relative to the config file)',
        });
      }
    }
  }
  return out;
}

/** Pretrained model folders; `withTokenizer` for the teacher, whose tokenizer the job uses. */
export function checkModelFolder(dir: string, path: string, withTokenizer: boolean): Problem[] {
  if (!existsSync(dir))
    return [
      {
        path,
        message: `model folder ${dir} does not exist`,
        hint: 'point "pretrained" at a Hugging Face folder (config.json, model.safetensors, tokenizer.json or vocab.txt)',
      },
    ];
  if (!isDir(dir))
    return [
      {
        path,
        message: `${dir} is a file, not a model folder`,
        hint: 'point "pretrained" at the folder that holds config.json and model.safetensors',
      },
    ];
  const missing = ['config.json', 'model.safetensors'].filter((f) => !isFile(join(dir, f)));
  if (withTokenizer && !isFile(join(dir, 'tokenizer.json')) && !isFile(join(dir, 'vocab.txt')))
    missing.push('tokenizer (tokenizer.json or vocab.txt)');
  return missing.length
    ? [
        {
          path,
          message: `model folder ${dir} has no ${missing.join(', no ')}`,
          hint: 'copy the missing files from the Hugging Face model (save_pretrained writes them all)',
        },
      ]
    : [];
}

/** The teacher's and student's pretrained folders. */
export function checkModelFolders(ctx: CheckContext): Problem[] {
  const out: Problem[] = [];
  for (const role of ['teacher', 'student'] as const) {
    const m = ctx.config[role].model;
    if (m.type === 'bert' && m.pretrained !== undefined)
      out.push(...checkModelFolder(m.pretrained, `${role}.model.pretrained`, role === 'teacher'));
  }
  return out;
}
