/**
 * Checks of `distillation.intermediateMatches` against the two models' shapes: feature names the
 * models produce, layer indices within range, projection sizes equal to the two hidden sizes.
 * Messages speak of the config and the models, not of adaptor internals.
 */
import { nearest } from '@distillery/core';
import type { ModelShape } from './models.js';
import type { CheckContext, Problem } from './types.js';

/** Losses that compare a student and a teacher vector elementwise: their widths must agree. */
const SAME_WIDTH_LOSSES = new Set(['hidden_mse', 'cos', 'pkd']);

export function checkMatches(
  ctx: CheckContext,
  teacher: ModelShape | undefined,
  student: ModelShape | undefined,
): Problem[] {
  const out: Problem[] = [];
  const all = new Set([
    ...Object.keys(teacher?.features ?? {}),
    ...Object.keys(student?.features ?? {}),
    'hidden',
    'attention',
  ]);
  ctx.config.distillation.intermediateMatches.forEach((m, i) => {
    const at = `distillation.intermediateMatches[${i}]`;
    let featureOk = true;
    for (const [side, shape, layerKey] of [
      ['teacher', teacher, 'layerT'],
      ['student', student, 'layerS'],
    ] as const) {
      if (!shape) continue;
      const f = shape.features[m.feature];
      if (!f) {
        featureOk = false;
        if (all.has(m.feature)) {
          out.push({
            path: `${at}.feature`,
            message: `the ${shape.label} has no "${m.feature}" outputs`,
            hint: `features of a ${shape.family} model: ${Object.keys(shape.features).join(', ')}`,
          });
        } else {
          const near = nearest(m.feature, Object.keys(shape.features));
          out.push({
            path: `${at}.feature`,
            message: `unknown feature "${m.feature}"`,
            hint: `${near ? `did you mean "${near}"? ` : ''}a ${shape.family} ${side} provides: ${Object.keys(shape.features).join(', ')}`,
          });
          break; // a typo is one problem, not one per side
        }
        continue;
      }
      const layers = Array.isArray(m[layerKey]) ? (m[layerKey] as number[]) : [m[layerKey]];
      for (const [j, l] of layers.entries()) {
        if (l >= f.count) {
          out.push({
            path: `${at}.${layerKey}${Array.isArray(m[layerKey]) ? `[${j}]` : ''}`,
            message: `${side} layer ${l} does not exist: the ${shape.label} has ${m.feature} layers 0–${f.count - 1}`,
            hint: `use 0 (${f.first}) to ${f.count - 1}`,
          });
        }
      }
    }
    if (
      !featureOk ||
      m.feature !== 'hidden' ||
      !teacher ||
      !student ||
      Array.isArray(m.layerS) ||
      Array.isArray(m.layerT)
    )
      return;
    const dimS = student.hiddenDim(m.layerS);
    const dimT = teacher.hiddenDim(m.layerT);
    if (dimS === undefined || dimT === undefined) return;
    if (m.proj) {
      if (m.proj[1] !== dimS)
        out.push({
          path: `${at}.proj[1]`,
          message: `projection input size ${m.proj[1]} differs from the student's hidden size ${dimS} at layer ${m.layerS}`,
          hint: `use ${dimS}: ["${m.proj[0]}", ${dimS}, ${dimT}]`,
        });
      if (m.proj[2] !== dimT)
        out.push({
          path: `${at}.proj[2]`,
          message: `projection output size ${m.proj[2]} differs from the teacher's hidden size ${dimT} at layer ${m.layerT}`,
          hint: `use ${dimT}: ["${m.proj[0]}", ${dimS}, ${dimT}]`,
        });
    } else if (dimS !== dimT && SAME_WIDTH_LOSSES.has(m.loss)) {
      out.push({
        path: `${at}`,
        message: `"${m.loss}" compares the student's hidden size ${dimS} with the teacher's ${dimT}`,
        hint: `add "proj": ["linear", ${dimS}, ${dimT}]`,
      });
    }
  });
  return out;
}
