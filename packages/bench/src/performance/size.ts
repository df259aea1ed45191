/** Model size on disk: the weights file a runtime loads, not the whole folder (tokenizer, configs). */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DistilleryError } from '@distillery/core';
import type { Runtime } from './classifier.js';

const WEIGHTS: Record<Runtime, string[]> = {
  tfjs: ['model.safetensors', 'pytorch_model.bin'],
  onnx: ['model.onnx', 'onnx/model.onnx', 'model_quantized.onnx', 'onnx/model_quantized.onnx'],
};

/** The weights file of a model path: the file itself, or the runtime's weights file in a folder. */
export function weightsFile(model: string, runtime: Runtime): string {
  if (!existsSync(model))
    throw new DistilleryError('FILE_NOT_FOUND', 'model not found', {
      where: model,
      hint: 'pass a Hugging Face folder or a .onnx file to --model',
    });
  if (statSync(model).isFile()) return model;
  for (const f of WEIGHTS[runtime]) if (existsSync(join(model, f))) return join(model, f);
  // Sharded safetensors: size of all shards together is reported by modelSizeMB.
  if (runtime === 'tfjs' && readdirSync(model).some((f) => /^model-\d+-of-\d+\.safetensors$/.test(f))) return model;
  throw new DistilleryError(
    'FILE_NOT_FOUND',
    `no ${runtime} weights file in the folder (looked for ${WEIGHTS[runtime].join(', ')})`,
    {
      where: model,
      hint:
        runtime === 'onnx'
          ? 'export the model first, or use --runtime tfjs'
          : 'a Hugging Face folder holds model.safetensors',
    },
  );
}

/** Size in MB (10⁶ bytes) of the weights the runtime loads. */
export function modelSizeMB(model: string, runtime: Runtime): number {
  const f = weightsFile(model, runtime);
  if (statSync(f).isFile()) return statSync(f).size / 1e6;
  const shards = readdirSync(f).filter((n) => /^model-\d+-of-\d+\.safetensors$/.test(n));
  return shards.reduce((s, n) => s + statSync(join(f, n)).size, 0) / 1e6;
}
