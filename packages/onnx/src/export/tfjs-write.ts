/**
 * Writing and reading back the tfjs graph model of `--format tfjs`: `model.json` + weight shards in a
 * folder (with config.json and the tokenizer files beside them), validated with tf.loadGraphModel.
 * @packageDocumentation
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { DistilleryError, writeFileAtomic } from '@distillery/core';
import { collate, loadTokenizer } from '@distillery/data';
import { predictTexts, type BertBase } from '@distillery/models';
import { exportBertTfjsGraph } from './tfjs-graph.js';

/**
 * Load a tfjs graph model folder from disk in Node (`tf.loadGraphModel` over the files; in a browser
 * pass the URL of model.json to `tf.loadGraphModel` instead).
 */
export async function loadTfjsGraphModelDir(dir: string): Promise<GraphModel> {
  const file = join(dir, 'model.json');
  if (!existsSync(file))
    throw new DistilleryError('FILE_NOT_FOUND', 'no model.json', {
      where: dir,
      hint: 'export one with: distillery export --format tfjs --out <dir>',
    });
  const mj = JSON.parse(readFileSync(file, 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    format?: string;
    signature?: object;
  };
  const parts = mj.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    data.set(p, off);
    off += p.length;
  }
  return loadGraphModel(
    tf.io.fromMemory({
      modelTopology: mj.modelTopology,
      weightSpecs: mj.weightsManifest.flatMap((g) => g.weights),
      weightData: data.buffer,
      format: mj.format,
      signature: mj.signature,
    }),
  );
}

/** Write the tfjs graph model of `model` to `out` (a folder), then check it against the tfjs model. */
export async function writeTfjsGraphModel(
  model: BertBase,
  modelDir: string,
  out: string,
  probes: string[],
  validate = true,
): Promise<{ path: string; bytes: number; maxAbsDiff?: number }> {
  if (out.endsWith('.onnx') || out.endsWith('.json'))
    throw new DistilleryError('USAGE', '--format tfjs writes a folder (model.json + weight shards)', {
      where: '--out',
      hint: 'pass a folder name, e.g. --out web/student-tfjs',
    });
  const art = exportBertTfjsGraph(model);
  mkdirSync(out, { recursive: true });
  let bytes = 0;
  for (const [name, data] of art.shards) {
    await writeFileAtomic(join(out, name), data);
    bytes += data.length;
  }
  const json = JSON.stringify(art.modelJson);
  await writeFileAtomic(join(out, 'model.json'), json);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json'])
    if (existsSync(join(modelDir, f))) copyFileSync(join(modelDir, f), join(out, f));
  const res = {
    path: join(out, 'model.json'),
    bytes: bytes + json.length,
    maxAbsDiff: undefined as number | undefined,
  };
  if (!validate) return res;
  const gm = await loadTfjsGraphModelDir(out);
  try {
    const tok = loadTokenizer(modelDir);
    const ref = predictTexts(model, tok, probes, { sortByLength: false, batchSize: probes.length });
    const b = collate(
      probes.map((t) => tok.encode(t)),
      tok.padId,
    );
    const got = tf.tidy(() => {
      const t = (d: Int32Array) => tf.tensor2d(d, [b.batchSize, b.seqLen], 'int32');
      return (
        gm.execute(
          { input_ids: t(b.inputIds), attention_mask: t(b.attentionMask), token_type_ids: t(b.tokenTypeIds) },
          'logits',
        ) as tf.Tensor
      ).dataSync();
    });
    let d = 0;
    ref.forEach((p, i) => p.logits.forEach((v, j) => (d = Math.max(d, Math.abs(v - got[i * p.logits.length + j]!)))));
    if (!(d <= 1e-4))
      throw new DistilleryError(
        'EXPORT_MISMATCH',
        `the tfjs graph model differs from the model by ${d} (> 1e-4) on probe texts`,
        { where: out },
      );
    res.maxAbsDiff = d;
  } finally {
    gm.dispose();
  }
  return res;
}
