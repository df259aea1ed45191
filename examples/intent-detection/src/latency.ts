#!/usr/bin/env node
/**
 * Fair speed-ups on a busy machine: single-query latency of several models measured round-robin
 * (`interleavedLatency` from @distillery/bench), so load from other processes hits all alike.
 *
 *   node dist/latency.js --data <config|clinc dir> --model teacher=<dir> --model "student (KD)"=<dir> [--runs 300]
 *
 * A `.onnx` file (e.g. the int8 student) runs in ONNX Runtime, a folder in tfjs.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { initBackend } from '@distillery/core';
import { interleavedLatency, loadClassifier, type Classifier } from '@distillery/bench';
import { benchExamples } from '@distillery/cli';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string', multiple: true },
    runs: { type: 'string', default: '300' },
  },
});
if (!values.data || !values.model?.length) {
  process.stderr.write(
    'usage: latency --data <config|clinc dir> --model label=<hf dir|file.onnx> [--model …] [--runs 300]\n',
  );
  process.exit(2);
}
await initBackend();
const { examples, maxLength } = await benchExamples(values.data, 'test');
const models: Record<string, Classifier> = {};
for (const spec of values.model) {
  const at = spec.indexOf('=');
  const path = spec.slice(at + 1);
  models[spec.slice(0, at)] = await loadClassifier(path, path.endsWith('.onnx') ? 'onnx' : 'tfjs', { maxLength });
}
const r = await interleavedLatency(
  models,
  examples.map((e) => e.text),
  { runs: Number(values.runs) },
);
const ref = Object.keys(r)[0]!;
process.stdout.write(
  `| model | mean ± std ms | p50 ms | p95 ms | p50 speed-up vs ${ref} |\n| --- | ---: | ---: | ---: | ---: |\n`,
);
for (const [label, s] of Object.entries(r))
  process.stdout.write(
    `| ${label} | ${s.mean.toFixed(2)} ± ${s.std.toFixed(2)} | ${s.p50.toFixed(2)} | ${s.p95.toFixed(2)} | ${(r[ref]!.p50 / s.p50).toFixed(2)}× |\n`,
  );
for (const c of Object.values(models)) await c.dispose?.();
