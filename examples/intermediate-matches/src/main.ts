#!/usr/bin/env node
/** `npm start -w @distillery/example-intermediate-matches -- --teacher <dir> --data <dir> [--steps N] [--max-examples N]` */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { formatSummary } from '@distillery/cli';
import { runIntermediateMatches } from './index.js';

const { values } = parseArgs({
  options: {
    teacher: { type: 'string', default: '../shared/models/clinc-bert-teacher' },
    data: { type: 'string', default: '../shared/data/clinc150' },
    out: { type: 'string' },
    steps: { type: 'string' },
    'max-examples': { type: 'string' },
  },
});
const { summary } = await runIntermediateMatches({
  teacherDir: values.teacher,
  dataDir: values.data,
  outputDir: values.out,
  numSteps: values.steps ? Number(values.steps) : undefined,
  maxExamples: values['max-examples'] ? Number(values['max-examples']) : undefined,
});
process.stdout.write(formatSummary(summary) + '\n');
