/**
 * The benchmark configuration: the JSON format of `shared/bench/bench-standard.json` (the PyTorch
 * reference script reads the same file), parsed and checked.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { DistilleryError, sharedPath } from '@distillery/core';

/** Sizes of one BERT encoder. */
export interface BenchArch {
  num_hidden_layers: number;
  hidden_size: number;
  num_attention_heads: number;
  intermediate_size: number;
}

/** `bench-standard.json` (snake_case, as the PyTorch script reads it). */
export interface BenchConfig {
  name: string;
  seed: number;
  batch_size: number;
  seq_len: number;
  vocab_size: number;
  num_labels: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  initializer_range: number;
  student_dropout: number;
  teacher: BenchArch;
  student: BenchArch;
  optimizer: { type: string; lr: number; betas: [number, number]; eps: number; weight_decay: number };
  losses: {
    kd: { temperature: number; weight: number };
    hard_label: { weight: number };
    hidden_mse: { layer_S: number; layer_T: number; proj: [string, number, number]; weight: number };
    attention_mse_sum: { layer_S: number; layer_T: number; weight: number };
  };
}

/** Path of the default configuration (`shared/bench/bench-standard.json`), or undefined when shared/ is absent. */
export function defaultConfigPath(): string | undefined {
  return sharedPath('bench', 'bench-standard.json');
}

function fail(where: string, msg: string): never {
  throw new DistilleryError('CONFIG_INVALID', msg, { where });
}

function posInt(o: Record<string, unknown>, k: string, where: string, min = 1): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    fail(`${where}.${k}`, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function num(o: Record<string, unknown>, k: string, where: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where}.${k}`, `must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function obj(o: Record<string, unknown>, k: string, where: string): Record<string, unknown> {
  const v = o[k];
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(`${where}.${k}`, 'must be an object');
  return v as Record<string, unknown>;
}

/** Check a parsed config object; errors name the field. */
export function parseBenchConfig(json: unknown, where = 'bench config'): BenchConfig {
  if (!json || typeof json !== 'object') fail(where, 'must be a JSON object');
  const c = json as Record<string, unknown>;
  for (const k of ['batch_size', 'seq_len', 'vocab_size', 'num_labels', 'max_position_embeddings', 'type_vocab_size'])
    posInt(c, k, where);
  if ((c.vocab_size as number) < 2)
    fail(`${where}.vocab_size`, 'must be >= 2 (ids are drawn from [1, vocab_size - 1])');
  if ((c.seq_len as number) > (c.max_position_embeddings as number))
    fail(`${where}.seq_len`, 'must be <= max_position_embeddings');
  for (const k of ['seed', 'layer_norm_eps', 'initializer_range', 'student_dropout']) num(c, k, where);
  for (const side of ['teacher', 'student']) {
    const a = obj(c, side, where);
    for (const k of ['num_hidden_layers', 'hidden_size', 'num_attention_heads', 'intermediate_size'])
      posInt(a, k, `${where}.${side}`);
    if ((a.hidden_size as number) % (a.num_attention_heads as number) !== 0)
      fail(`${where}.${side}.num_attention_heads`, 'must divide hidden_size');
  }
  const o = obj(c, 'optimizer', where);
  if (String(o.type).toLowerCase() !== 'adamw')
    fail(`${where}.optimizer.type`, `only AdamW is benchmarked, got ${JSON.stringify(o.type)}`);
  for (const k of ['lr', 'eps', 'weight_decay']) num(o, k, `${where}.optimizer`);
  if (!Array.isArray(o.betas) || o.betas.length !== 2 || !o.betas.every((b) => typeof b === 'number'))
    fail(`${where}.optimizer.betas`, 'must be [beta1, beta2]');
  const L = obj(c, 'losses', where);
  const kd = obj(L, 'kd', `${where}.losses`);
  num(kd, 'temperature', `${where}.losses.kd`);
  num(kd, 'weight', `${where}.losses.kd`);
  num(obj(L, 'hard_label', `${where}.losses`), 'weight', `${where}.losses.hard_label`);
  const student = c.student as BenchArch;
  const teacher = c.teacher as BenchArch;
  const hm = obj(L, 'hidden_mse', `${where}.losses`);
  posInt(hm, 'layer_S', `${where}.losses.hidden_mse`, 0);
  posInt(hm, 'layer_T', `${where}.losses.hidden_mse`, 0);
  num(hm, 'weight', `${where}.losses.hidden_mse`);
  if ((hm.layer_S as number) > student.num_hidden_layers)
    fail(`${where}.losses.hidden_mse.layer_S`, `hidden states go 0..${student.num_hidden_layers}`);
  if ((hm.layer_T as number) > teacher.num_hidden_layers)
    fail(`${where}.losses.hidden_mse.layer_T`, `hidden states go 0..${teacher.num_hidden_layers}`);
  const proj = hm.proj as unknown[];
  if (
    !Array.isArray(proj) ||
    proj.length !== 3 ||
    typeof proj[0] !== 'string' ||
    proj[1] !== student.hidden_size ||
    proj[2] !== teacher.hidden_size
  ) {
    fail(
      `${where}.losses.hidden_mse.proj`,
      `must be [kind, ${student.hidden_size}, ${teacher.hidden_size}] (student hidden → teacher hidden)`,
    );
  }
  const am = obj(L, 'attention_mse_sum', `${where}.losses`);
  posInt(am, 'layer_S', `${where}.losses.attention_mse_sum`, 0);
  posInt(am, 'layer_T', `${where}.losses.attention_mse_sum`, 0);
  num(am, 'weight', `${where}.losses.attention_mse_sum`);
  if ((am.layer_S as number) >= student.num_hidden_layers)
    fail(`${where}.losses.attention_mse_sum.layer_S`, `attentions go 0..${student.num_hidden_layers - 1}`);
  if ((am.layer_T as number) >= teacher.num_hidden_layers)
    fail(`${where}.losses.attention_mse_sum.layer_T`, `attentions go 0..${teacher.num_hidden_layers - 1}`);
  return { name: typeof c.name === 'string' ? c.name : 'unnamed', ...c } as BenchConfig;
}

/** Read and check a config file. */
export function loadBenchConfig(path: string): BenchConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DistilleryError('CONFIG_INVALID', `cannot read bench config: ${(e as Error).message}`, { where: path });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DistilleryError('CONFIG_INVALID', `bench config is not valid JSON: ${(e as Error).message}`, {
      where: path,
    });
  }
  return parseBenchConfig(json, path);
}
