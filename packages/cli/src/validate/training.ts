/** Checks of the `training` sections: loop length, backend name. */
import { BACKEND_PREFERENCE, suggest } from '@distillery/core';
import type { CheckContext, Problem } from './types.js';

const BACKENDS = ['auto', ...BACKEND_PREFERENCE];

/** Exactly one of numEpochs / numSteps, in each training section that runs. */
export function checkTraining(ctx: CheckContext): Problem[] {
  const out: Problem[] = [];
  const { config: c } = ctx;
  const pretrained = c.teacher.model.type === 'bert' && c.teacher.model.pretrained !== undefined;
  const sections: [string, { numEpochs?: number; numSteps?: number; backend: string } | undefined][] = [
    ['training', c.training],
    // The teacher trains only when it is not pretrained.
    ['teacher.training', pretrained ? undefined : (c.teacher.training ?? undefined)],
  ];
  for (const [path, t] of sections) {
    if (!t) continue;
    if (t.numEpochs !== undefined && t.numSteps !== undefined) {
      out.push({
        path: `${path}.numSteps`,
        message: `both numEpochs (${t.numEpochs}) and numSteps (${t.numSteps}) are set`,
        hint: 'keep one: numEpochs (passes over the data) or numSteps (optimizer steps, data cycled)',
      });
    } else if (
      t.numEpochs === undefined &&
      t.numSteps === undefined &&
      !(path === 'training' && c.distillation.stages?.length)
    ) {
      // With distillation.stages, each stage sets its own numSteps / numEpochs.
      out.push({
        path,
        message: 'sets neither numEpochs nor numSteps',
        hint: `add "numEpochs": 3 (or "numSteps": 1000) to "${path}"`,
      });
    }
    const b = t.backend.trim().toLowerCase();
    if (!BACKENDS.includes(b))
      out.push({ path: `${path}.backend`, message: `unknown backend "${t.backend}"`, hint: suggest(b, BACKENDS) });
  }
  return out;
}
