#!/usr/bin/env node
/** `npm start -w @distillery/example-custom-adaptor -- --teacher <dir> --data <dir> [--epochs 2] [--max-examples N]` */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { distilToCnn } from './index.js';

const { values } = parseArgs({
  options: {
    teacher: { type: 'string', default: '../shared/models/clinc-bert-teacher' },
    data: { type: 'string', default: '../shared/data/clinc150' },
    epochs: { type: 'string' },
    steps: { type: 'string' },
    'max-examples': { type: 'string' },
    out: { type: 'string' },
  },
});
const r = await distilToCnn({
  teacherDir: values.teacher,
  dataDir: values.data,
  outputDir: values.out,
  numEpochs: values.epochs ? Number(values.epochs) : undefined,
  numSteps: values.steps ? Number(values.steps) : undefined,
  maxExamples: values['max-examples'] ? Number(values['max-examples']) : undefined,
});
console.log(
  `CNN student: ${r.parameters.toLocaleString('en-US')} parameters, test accuracy ${(100 * r.accuracy).toFixed(2)} % after ${r.train.globalStep} steps (${(r.train.durationMs / 1000).toFixed(0)} s)`,
);
