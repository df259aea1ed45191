/**
 * Reading the weight files of a Hugging Face folder: `model.safetensors`, or a sharded checkpoint
 * (`model.safetensors.index.json` + its shards). A folder with only PyTorch pickles gets an error that
 * says how to convert them (we never unpickle).
 * @packageDocumentation
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DistilleryError, assertFiniteArrays, readSafetensors, type SafetensorsTensor } from '@distillery/core';

/** The one-line conversions we suggest for PyTorch-only folders. */
export const CONVERT_HINT =
  "convert it to safetensors first: python -c \"import torch, safetensors.torch as st; st.save_file(torch.load('pytorch_model.bin', map_location='cpu'), 'model.safetensors', metadata={'format': 'pt'})\" " +
  '(or AutoModel.from_pretrained(dir).save_pretrained(dir, safe_serialization=True) with transformers)';

/** Read and parse `dir/config.json` (raw object); errors name the file. */
export function readConfigJson(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json');
  if (!existsSync(path))
    throw new DistilleryError('MODEL_NOT_FOUND', 'no config.json', {
      where: dir,
      hint: 'point to a Hugging Face model folder (config.json + model.safetensors)',
    });
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DistilleryError('CONFIG_INVALID', `invalid JSON: ${(err as Error).message}`, { where: path });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new DistilleryError('CONFIG_INVALID', 'config.json must hold a JSON object', { where: path });
  return json as Record<string, unknown>;
}

/** The weight files of a folder, in load order, or a clear error. */
export function checkpointFiles(dir: string): string[] {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (existsSync(indexPath)) {
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(readFileSync(indexPath, 'utf8')) as typeof index;
    } catch (err) {
      throw new DistilleryError('CONFIG_INVALID', `invalid JSON: ${(err as Error).message}`, { where: indexPath });
    }
    if (!index.weight_map || typeof index.weight_map !== 'object') {
      throw new DistilleryError('SAFETENSORS_INVALID', 'no "weight_map" object', {
        where: indexPath,
        hint: 'a sharded checkpoint index maps each weight name to its shard file',
      });
    }
    const shards = [...new Set(Object.values(index.weight_map))].sort();
    for (const s of shards) {
      if (typeof s !== 'string' || s.includes('..') || s.startsWith('/'))
        throw new DistilleryError('SAFETENSORS_INVALID', `bad shard name ${JSON.stringify(s)}`, {
          where: `${indexPath}: weight_map`,
        });
      if (!existsSync(join(dir, s)))
        throw new DistilleryError('MODEL_NOT_FOUND', `shard "${s}" listed in the index is missing`, {
          where: dir,
          hint: 'download every shard of the checkpoint',
        });
    }
    return shards.map((s) => join(dir, s));
  }
  for (const pt of ['pytorch_model.bin', 'pytorch_model.bin.index.json', 'model.pt', 'tf_model.h5']) {
    if (existsSync(join(dir, pt))) {
      throw new DistilleryError(
        'MODEL_UNSUPPORTED_FORMAT',
        `the folder has only ${pt}; Distillery reads safetensors (it never runs pickled code)`,
        { where: dir, hint: CONVERT_HINT },
      );
    }
  }
  throw new DistilleryError('MODEL_NOT_FOUND', 'no model.safetensors (or model.safetensors.index.json)', {
    where: dir,
    hint: 'expected model.safetensors beside config.json',
  });
}

/** All tensors of a folder's checkpoint by stored name, with the file each came from. */
export async function readCheckpoint(
  dir: string,
  opts: { allowNonFinite?: boolean } = {},
): Promise<{ tensors: Map<string, SafetensorsTensor>; fileOf: Map<string, string> }> {
  const tensors = new Map<string, SafetensorsTensor>();
  const fileOf = new Map<string, string>();
  for (const file of checkpointFiles(dir)) {
    const f = await readSafetensors(file);
    for (const [name, t] of f.tensors) {
      if (tensors.has(name))
        throw new DistilleryError(
          'SAFETENSORS_INVALID',
          `weight "${name}" appears in two shards (${fileOf.get(name)} and ${file})`,
          { where: file },
        );
      tensors.set(name, t);
      fileOf.set(name, file);
    }
    // A model whose weights hold NaN/Inf is refused by tensor name (a diverged run's checkpoint, a broken file).
    if (!opts.allowNonFinite) {
      const floats = [...f.tensors].filter(
        ([, t]) => t.data instanceof Float32Array || t.data instanceof Float64Array,
      ) as [string, { data: ArrayLike<number> }][];
      assertFiniteArrays(
        floats.map(([k, t]) => [k, t.data]),
        `${file}: refusing to load`,
        'the checkpoint is broken (a diverged run?); pass allowNonFinite: true to load it for inspection',
      );
    }
  }
  return { tensors, fileOf };
}
