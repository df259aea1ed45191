import { sharedPath } from '@distillery/core';
import { quickstart } from './index.js';

const teacherDir = process.argv[2] ?? sharedPath('models', 'clinc-bert-teacher');
const dataDir = process.argv[3] ?? sharedPath('data', 'clinc150');
if (!teacherDir || !dataDir) {
  console.error('usage: npm start -w @distillery/example-quickstart -- <teacher-dir> <clinc150-dir>');
  process.exit(1);
}
const r = await quickstart({ teacherDir, dataDir });
console.log(
  `done: ${r.globalStep} steps in ${(r.durationMs / 1000).toFixed(1)} s, last loss ${r.lastLoss.toFixed(4)}; checkpoints: ${r.checkpoints.join(', ')}`,
);
