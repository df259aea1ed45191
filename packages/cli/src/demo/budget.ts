/**
 * The demo's budget: the config's on a fast backend, a smaller one it picks by itself on slow
 * backends (wasm/cpu, no OpenBLAS), or an explicit one (the e2e test's tiny demo).
 */
import type { JobConfig } from '../job/schema.js';

/** How much the demo trains. */
export interface DemoBudget {
  /** `full`: the config as written; `reduced`: the slow-backend budget; `custom`: the caller's. */
  kind: 'full' | 'reduced' | 'custom';
  /** Examples used from the corpus (after the seeded shuffle); unset: all. */
  maxExamples?: number;
  /** Epochs of the teacher and of each student run; unset: the config's. */
  teacherEpochs?: number;
  studentEpochs?: number;
  /** Why this budget (printed). */
  reason: string;
}

/** Backends fast enough for the full demo (native = wasm + OpenBLAS, tfjs-node). */
const FAST = ['native', 'tensorflow'];

/** The budget for `backend`, unless the caller gave one. */
export function chooseBudget(backend: string, given?: Omit<DemoBudget, 'kind' | 'reason'>): DemoBudget {
  if (given) return { kind: 'custom', ...given, reason: 'budget given by the caller' };
  if (FAST.includes(backend)) return { kind: 'full', reason: `the ${backend} backend runs the config's budget` };
  // wasm without OpenBLAS is several times slower per step: half the corpus, 2 teacher epochs (~135 steps: the
  // native teacher reaches ~93 % validation accuracy at step 100; 45 steps learnt nothing) and 1 student epoch.
  return {
    kind: 'reduced',
    maxExamples: 3000,
    teacherEpochs: 2,
    studentEpochs: 1,
    reason: `the ${backend} backend is several times slower than native (apt-get install libopenblas-dev before npm ci builds it): a smaller budget, 3,000 examples, 2 teacher epochs and 1 student epoch`,
  };
}

/** The config with the budget applied (a copy). */
export function applyBudget(cfg: JobConfig, b: DemoBudget): JobConfig {
  const out = structuredClone(cfg);
  if (b.maxExamples !== undefined) Object.assign(out.task.data, { maxExamples: b.maxExamples });
  if (b.studentEpochs !== undefined)
    out.training = { ...out.training, numEpochs: b.studentEpochs, numSteps: undefined };
  if (b.teacherEpochs !== undefined && out.teacher.training)
    out.teacher.training = { ...out.teacher.training, numEpochs: b.teacherEpochs, numSteps: undefined };
  return out;
}
