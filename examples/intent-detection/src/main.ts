#!/usr/bin/env node
/**
 * npm start -w @distillery/example-intent-detection -- --data ../shared/data/clinc150
 *   [--teacher ../shared/models/clinc-bert-teacher] [--work runs/intent-detection] [--max-examples N]
 *   [--epochs 4] [--seeds 3] [--trials 8] [--space alpha=0..1,temperature=1..20,numEpochs=2..4] [--runs 100]
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { formatGain } from '@distillery/cli';
import { runWorkflow } from './workflow.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    teacher: { type: 'string', default: '../shared/models/clinc-bert-teacher' },
    work: { type: 'string', default: 'runs/intent-detection' },
    'max-examples': { type: 'string' },
    epochs: { type: 'string' },
    seeds: { type: 'string' },
    trials: { type: 'string' },
    space: { type: 'string' },
    runs: { type: 'string' },
  },
});
if (!values.data) {
  process.stderr.write(
    'usage: intent-detection --data <clinc150 dir> [--teacher <hf dir>] [--work <dir>] [--max-examples N] [--epochs 4] [--seeds 3] [--trials 8] [--space ...] [--runs 100]\n',
  );
  process.exit(2);
}
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const r = await runWorkflow({
  dataDir: values.data,
  teacherDir: values.teacher,
  workDir: values.work,
  maxExamples: num(values['max-examples']),
  numEpochs: num(values.epochs),
  seeds: num(values.seeds),
  trials: num(values.trials),
  space: values.space,
  latencyRuns: num(values.runs),
});
process.stdout.write(
  `KD gain: ${formatGain(r.gain)}\nbest: ${JSON.stringify(r.best.params)} (${(100 * r.best.value).toFixed(2)} %)\nint8 student: ${r.int8File}\nreport: ${r.reportHtml}, ${r.reportSvg}\n`,
);
