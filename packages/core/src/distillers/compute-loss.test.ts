import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PluginRegistry } from '../plugin/registry.js';
import { silentLogger } from '../util/logger.js';
import { parseConfig } from '../config/validate.js';
import { DistillationConfigSchema } from '../config/schema.js';
import { computeDistillationLoss, matchKey } from './compute-loss.js';

let registry: PluginRegistry;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registry = new PluginRegistry({ logger: silentLogger });
  await registry.loadBuiltins();
});

const cfg = (o: object) => parseConfig(DistillationConfigSchema, o);

// Independent float64 references (plain JS), so no expectation is built from the code under test.
const logSoftmax = (r: number[]): number[] => {
  const mx = Math.max(...r);
  const lse = mx + Math.log(r.reduce((a, x) => a + Math.exp(x - mx), 0));
  return r.map((x) => x - lse);
};
/** TextBrewer kd ce: mean over rows of −Σ_c softmax(t/T)_c · log softmax(s/T)_c. */
const kdCeRef = (S: number[][], T: number[][], temp: number): number =>
  S.reduce((a, r, i) => {
    const p = logSoftmax(T[i]!.map((x) => x / temp)).map(Math.exp);
    const q = logSoftmax(r.map((x) => x / temp));
    return a - p.reduce((u, pc, c) => u + pc * q[c]!, 0);
  }, 0) / S.length;
/** Probability shift of one row: swap the values at the arg-max (first) and at the label; label < 0 keeps the row. */
const shiftRow = (r: number[], label: number): number[] => {
  if (label < 0) return r;
  const am = r.indexOf(Math.max(...r));
  const o = [...r];
  [o[am], o[label]] = [r[label]!, r[am]!];
  return o;
};

describe('computeDistillationLoss fixes TextBrewer defects', () => {
  it('probability shift happens before masking, so labels stay aligned with 3-D logits', () => {
    // (B=2, L=3, C=4) by hand; mask keeps rows (0,0), (0,2), (1,0), (1,1).
    const S = [
      [
        [0.1, 0.2, -0.3, 0.4],
        [1, 1, 1, 1],
        [0.5, -0.5, 0, 2],
      ],
      [
        [-1, 0, 1, 0.5],
        [0.3, 0.3, -0.2, 0],
        [9, 9, 9, 9],
      ],
    ];
    const T = [
      [
        [2, 0.5, -1, 0],
        [0, 0, 5, 0],
        [1, 3, 0.5, -2],
      ],
      [
        [0.2, 1.5, -0.5, 0.1],
        [-0.3, 0.8, 0.4, 2.2],
        [7, 7, 7, 7],
      ],
    ];
    const labels = [
      [3, -100, 0],
      [1, 2, -100],
    ];
    const keep = [
      [1, 0, 1],
      [1, 1, 0],
    ];
    tf.tidy(() => {
      const config = cfg({ temperature: 2, probabilityShift: true });
      const got = computeDistillationLoss(
        {
          logits: tf.tensor3d(S),
          logitsMask: tf.tensor2d(keep, [2, 3], 'int32'),
          labels: tf.tensor2d(labels, [2, 3], 'int32'),
        },
        { logits: tf.tensor3d(T), logitsMask: tf.tensor2d(keep, [2, 3], 'int32') },
        { config, registry },
      ).total.dataSync()[0]!;
      const rowsS: number[][] = [],
        rowsT: number[][] = [];
      for (let b = 0; b < 2; b++) {
        for (let l = 0; l < 3; l++) {
          if (!keep[b]![l]) continue;
          rowsS.push(S[b]![l]!);
          rowsT.push(shiftRow(T[b]![l]!, labels[b]![l]!));
        }
      }
      expect(got).toBeCloseTo(kdCeRef(rowsS, rowsT, 2), 5);
      // Masking first (TextBrewer's order) pairs the 4 kept rows with the first 4 labels: another value.
      const keptT = [T[0]![0]!, T[0]![2]!, T[1]![0]!, T[1]![1]!];
      const wrong = kdCeRef(
        rowsS,
        keptT.map((r, i) => shiftRow(r, labels.flat()[i]!)),
        2,
      );
      expect(Math.abs(got - wrong)).toBeGreaterThan(1e-3);
    });
  });

  it('one logits mask serves several 3-D heads (TextBrewer crashes)', () => {
    const h0S = [
      [
        [0.5, -1, 0.2, 0],
        [1, 2, 3, 4],
        [0, 0, 0, 9],
      ],
      [
        [0.1, 0.3, -0.2, 1],
        [5, 5, 5, 5],
        [1, 1, 1, 1],
      ],
    ];
    const h0T = [
      [
        [1, 0, 0, -1],
        [0.5, 0.5, 0, 1],
        [2, 2, 2, 2],
      ],
      [
        [-1, 1, 0.5, 0],
        [3, 3, 3, 3],
        [0, 0, 0, 0],
      ],
    ];
    const h1S = [
      [
        [0.2, 0.1, -0.4, 0.3, 1],
        [1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
      ],
      [
        [0.6, -0.6, 0, 0.2, 0.1],
        [2, 2, 2, 2, 2],
        [0, 1, 0, 1, 0],
      ],
    ];
    const h1T = [
      [
        [1, 2, 0, -1, 0.5],
        [0, 1, 0, 1, 0],
        [3, 0, 0, 0, 0],
      ],
      [
        [0.3, 0.2, 0.1, 0, -0.1],
        [1, 1, 1, 1, 1],
        [9, 0, 0, 0, 0],
      ],
    ];
    const keep = [
      [1, 1, 0],
      [1, 0, 0],
    ];
    tf.tidy(() => {
      const mask = tf.tensor2d(keep, [2, 3], 'int32');
      const heads = [tf.tensor3d(h0S), tf.tensor3d(h1S)];
      const headsT = [tf.tensor3d(h0T), tf.tensor3d(h1T)];
      const one = computeDistillationLoss(
        { logits: heads, logitsMask: mask },
        { logits: headsT, logitsMask: mask },
        { config: cfg({}), registry },
      );
      const two = computeDistillationLoss(
        { logits: heads, logitsMask: [mask, mask] },
        { logits: headsT, logitsMask: [mask, mask] },
        { config: cfg({}), registry },
      );
      // Reference: each head's kd over its real rows (default T = 4), summed over heads.
      const real = (x: number[][][]) => x.flatMap((rows, b) => rows.filter((_, l) => keep[b]![l]));
      const ref = kdCeRef(real(h0S), real(h0T), 4) + kdCeRef(real(h1S), real(h1T), 4);
      expect(one.total.dataSync()[0]).toBeCloseTo(ref, 5);
      expect(two.total.dataSync()[0]).toBeCloseTo(ref, 5);
    });
  });

  it("each side passes its own inputs mask to match losses (textbrewer compat: the student's)", () => {
    const hS = [
      [
        [0.5, -1],
        [2, 0.25],
        [3, 3],
      ],
    ];
    const hT = [
      [
        [1, -0.5],
        [1, 1],
        [-4, 0],
      ],
    ];
    tf.tidy(() => {
      const config = cfg({ intermediateMatches: [{ layerT: 0, layerS: 0, feature: 'hidden', loss: 'hidden_mse' }] });
      const logits = tf.zeros([1, 2]);
      const resS = { logits, hidden: [tf.tensor3d(hS)] };
      const resT = { logits, hidden: [tf.tensor3d(hT)], inputsMask: tf.tensor2d([[1, 1, 0]]) };
      const key = matchKey(config.intermediateMatches[0]!);
      const own = computeDistillationLoss(resS, resT, { config, registry }).losses[key]!.dataSync()[0]!;
      const tb = computeDistillationLoss(resS, resT, { config, registry, compat: 'textbrewer' }).losses[
        key
      ]!.dataSync()[0]!;
      // (0.5−1)² + (−1+0.5)² + (2−1)² + (0.25−1)² = 0.25 + 0.25 + 1 + 0.5625 over 2 positions × 2
      const masked = 2.0625 / 4;
      // plus (3+4)² + (3−0)² = 49 + 9 over 3 × 2
      const full = (2.0625 + 58) / 6;
      expect(own).toBeCloseTo(masked, 6); // the teacher's mask is used when the student has none
      expect(tb).toBeCloseTo(full, 6); // TextBrewer: the student's (absent) mask
    });
  });
});
