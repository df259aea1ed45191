/**
 * The ONNX Runtime teacher of a job config (`teacher.model: { type: "onnx", path, tokenizer?, inputs?,
 * outputs?, … }`): where its file and tokenizer are, and the teacher itself, fetching hidden states and
 * attentions only when the distillation's intermediate matches read them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, type DistillModel } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';
import { OnnxTeacher, resolveOnnxPath } from '@distillery/onnx';
import type { JobConfig, ModelConfig } from './schema.js';

/** The `onnx` variant of a model config. */
export type OnnxModelConfig = Extract<ModelConfig, { type: 'onnx' }>;

/** The .onnx file and the folder with its tokenizer (and config.json, when there is one). */
export function onnxTeacherFiles(m: OnnxModelConfig): { file: string; tokenizerDir: string; hasConfig: boolean } {
  const loc = resolveOnnxPath(m.path);
  const tokenizerDir = m.tokenizer ?? loc.modelDir;
  if (!existsSync(join(tokenizerDir, 'tokenizer.json')) && !existsSync(join(tokenizerDir, 'vocab.txt'))) {
    throw new DistilleryError('TOKENIZER_MISSING', 'the ONNX teacher has no tokenizer.json or vocab.txt beside it', {
      where: 'teacher.model.tokenizer',
      hint: `set "tokenizer" to the folder holding the teacher's tokenizer (looked in ${tokenizerDir})`,
    });
  }
  return { file: loc.file, tokenizerDir, hasConfig: existsSync(join(tokenizerDir, 'config.json')) };
}

/** Which teacher outputs the configured matches read (fetching fewer outputs makes each call cheaper). */
function wanted(cfg: JobConfig): { hidden: boolean; attention: boolean } {
  const feats = new Set(cfg.distillation.intermediateMatches.map((m) => m.feature));
  return { hidden: feats.has('hidden'), attention: feats.has('attention') };
}

/** Open the ONNX teacher as a frozen model of the job (async forward; no parameters). */
export async function buildOnnxTeacher(m: OnnxModelConfig, cfg: JobConfig): Promise<DistillModel<EncodedBatch>> {
  const { file } = onnxTeacherFiles(m);
  const teacher = await OnnxTeacher.create(file, {
    inputs: m.inputs,
    outputs: m.outputs,
    executionProviders: m.executionProviders,
    intraOpThreads: m.intraOpThreads,
    graphOptimizationLevel: m.graphOptimizationLevel,
  });
  const want = wanted(cfg);
  const missing = [
    want.hidden && !teacher.outputMap.hiddenStates.length && 'hidden states',
    want.attention && !teacher.outputMap.attentions.length && 'attentions',
  ].filter(Boolean);
  if (missing.length) {
    await teacher.session.dispose();
    throw new DistilleryError(
      'ONNX_OUTPUT_UNKNOWN',
      `distillation.intermediateMatches read the teacher's ${missing.join(' and ')}, but the graph outputs none`,
      {
        where: `teacher.model.path (${file})`,
        hint: `the graph's outputs are ${teacher.session.outputNames.join(', ')}; export the teacher with --hidden-states --attentions, or name them in teacher.model.outputs`,
      },
    );
  }
  const model = {
    // The distillers await a promise-returning teacher forward (core's runTeacher).
    forward: (b: EncodedBatch) =>
      teacher.forward(b, { training: false, outputHiddenStates: want.hidden, outputAttentions: want.attention }),
    parameters: (): Record<string, tf.Variable> => ({}),
    dispose: () => teacher.dispose(),
    onnx: teacher,
  };
  return model;
}

/** Predicted class ids of the ONNX teacher on a batch. */
export async function onnxPredict(model: DistillModel<EncodedBatch>, b: EncodedBatch): Promise<Int32Array> {
  const t = (model as unknown as { onnx: OnnxTeacher }).onnx;
  const o = await t.forward(b, { training: false, outputHiddenStates: false, outputAttentions: false });
  const ids = tf.tidy(() => tf.argMax(o.logits, -1).dataSync() as Int32Array);
  o.logits.dispose();
  return ids;
}

/** True for a model built by {@link buildOnnxTeacher}. */
export function isOnnxTeacher(model: DistillModel<EncodedBatch>): boolean {
  return 'onnx' in (model as object);
}
