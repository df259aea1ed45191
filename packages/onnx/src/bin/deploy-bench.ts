#!/usr/bin/env node
/**
 * Size, accuracy and single-query latency of a model as fp32 tfjs, fp32 ONNX, int8 ONNX and fp16 ONNX
 * on the CLINC150 test set (the README's deployment table).
 *
 *   distillery-deploy-bench --model ../shared/models/clinc-bert-teacher --data ../shared/data/clinc150 \
 *     --out runs/deploy [--limit N] [--runs 100] [--threads 1] [--per-tensor]
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@distillery/core';
import { loadClinc150, type Example } from '@distillery/data';
import type { Prediction } from '@distillery/models';
import { exportModel } from '../export/write.js';
import { createClassifier, type TextClassifier } from '../runtime/classifier.js';

interface Row {
  name: string;
  file: string;
  mb: number;
  accuracy: number;
  inScopeAccuracy: number;
  agreeWithTfjs: number;
  latency: { mean: number; p50: number; p95: number; min: number };
}

function accuracy(preds: Prediction[], ex: readonly Example[]) {
  let ok = 0;
  let inTotal = 0;
  let inOk = 0;
  preds.forEach((p, i) => {
    const gold = ex[i]!.label;
    if (p.label === gold) ok++;
    if (gold !== 'oos') {
      inTotal++;
      if (p.label === gold) inOk++;
    }
  });
  return { accuracy: ok / preds.length, inScopeAccuracy: inTotal ? inOk / inTotal : 0 };
}

/** Single-query latency: `warm` untimed calls, then `runs` timed calls over the texts in turn (ms). */
async function latency(c: TextClassifier, texts: readonly string[], runs: number, warm = 10) {
  for (let i = 0; i < warm; i++) await c.predict(texts[i % texts.length]!);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await c.predict(texts[i % texts.length]!);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!;
  return { mean: ms.reduce((a, b) => a + b, 0) / ms.length, p50: q(0.5), p95: q(0.95), min: ms[0]! };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string', default: 'runs/deploy' },
      limit: { type: 'string' },
      runs: { type: 'string', default: '100' },
      threads: { type: 'string', default: '1' },
      'per-tensor': { type: 'boolean' },
    },
  });
  if (!values.model || !values.data) {
    process.stderr.write(
      'usage: distillery-deploy-bench --model DIR --data DIR [--out DIR] [--limit N] [--runs 100] [--threads 1] [--per-tensor]\n',
    );
    process.exit(2);
  }
  await initBackend({ logger: { info: (m) => process.stderr.write(`${m}\n`) } });
  const log = (m: string) => process.stderr.write(`${m}\n`);
  let test = loadClinc150(values.data).test;
  if (values.limit) test = test.slice(0, Number(values.limit));
  const texts = test.map((e) => e.text);
  const perChannel = !values['per-tensor'];
  log('exporting fp32 + int8 + fp16 …');
  await exportModel(values.model, values.out, { quantize: 'int8', perChannel });
  await exportModel(values.model, values.out, { quantize: 'fp16' });
  const session = { intraOpThreads: Number(values.threads) };
  const variants: [string, string, () => Promise<TextClassifier>][] = [
    [
      `fp32 tfjs (${tf.getBackend()})`,
      join(values.model, 'model.safetensors'),
      () => createClassifier(values.model!, { runtime: 'tfjs' }),
    ],
    [
      'fp32 ONNX',
      join(values.out, 'onnx/model.onnx'),
      () => createClassifier(join(values.out, 'onnx/model.onnx'), { runtime: 'onnx', session }),
    ],
    [
      `int8 ONNX (${perChannel ? 'per-channel' : 'per-tensor'})`,
      join(values.out, 'onnx/model_quantized.onnx'),
      () => createClassifier(join(values.out, 'onnx/model_quantized.onnx'), { runtime: 'onnx', session }),
    ],
    [
      'fp16 ONNX (weights)',
      join(values.out, 'onnx/model_fp16.onnx'),
      () => createClassifier(join(values.out, 'onnx/model_fp16.onnx'), { runtime: 'onnx', session }),
    ],
  ];
  const rows: Row[] = [];
  let ref: Prediction[] | undefined;
  for (const [name, file, make] of variants) {
    const c = await make();
    try {
      const t0 = performance.now();
      const preds = await c.predictDetailed(texts);
      log(`${name}: ${texts.length} texts in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      ref ??= preds;
      const agree = preds.filter((p, i) => p.labelId === ref![i]!.labelId).length / preds.length;
      rows.push({
        name,
        file,
        mb: statSync(file).size / 1e6,
        ...accuracy(preds, test),
        agreeWithTfjs: agree,
        latency: await latency(c, texts, Number(values.runs)),
      });
    } finally {
      await c.dispose();
    }
  }
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const fp32 = rows[1]!;
  process.stdout.write(
    '| model | file | MB | fp32 ONNX size / this | accuracy | in-scope acc. | same label as tfjs | latency mean / p50 / p95 / min ms |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n',
  );
  for (const r of rows) {
    const l = r.latency;
    process.stdout.write(
      `| ${r.name} | ${r.file.split('/').slice(-2).join('/')} | ${r.mb.toFixed(2)} | ${(fp32.mb / r.mb).toFixed(2)}× | ${pct(r.accuracy)} | ${pct(r.inScopeAccuracy)} | ${pct(r.agreeWithTfjs)} | ${l.mean.toFixed(2)} / ${l.p50.toFixed(2)} / ${l.p95.toFixed(2)} / ${l.min.toFixed(2)} |\n`,
    );
  }
  process.stdout.write(JSON.stringify({ texts: texts.length, rows }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
