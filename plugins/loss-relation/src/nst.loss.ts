import * as tf from '@tensorflow/tfjs-core';
import {
  DistilleryError,
  divByCount,
  maskToFloat,
  shapeToString,
  type MatchLossInput,
  type MatchLossPlugin,
} from '@distillery/core';
import { VERSION, maskOf, pair } from './common.js';

/**
 * NST / MMD loss on position-similarity matrices (TextBrewer `mmd_loss`, names `nst` and `mmd`;
 * Huang & Wang 2017, linear kernel).
 *
 * `stateS` = [X0, X1] each (B, L, D_S) and `stateT` = [X0, X1] each (B, L, D_T); D_S and D_T may
 * differ (no projection needed), L must match.
 *
 *   G = X0 · X1ᵀ / D       (an L×L matrix per example; each side uses its own D = X1's last axis)
 *   no mask:   loss = mean of (G_S − G_T)²
 *   with mask: loss = Σ_{b,i,j} m_bi·m_bj·(G_S − G_T)² / Σ_b n_b²
 *
 * - `layerS: [i, i]` (the same tensor twice) is allowed and common.
 * - Empty mask: 0.
 */
export function nst(input: MatchLossInput): tf.Scalar {
  const ctx = { op: 'nst', where: input.where };
  const [s0, s1] = pair(input.stateS, 'stateS', ctx);
  const [t0, t1] = pair(input.stateT, 'stateT', ctx);
  const mask = maskOf(input);
  return tf.tidy(() => {
    const gram = (x0: tf.Tensor, x1: tf.Tensor, side: string): tf.Tensor3D => {
      if (x0.rank !== 3 || x1.rank !== 3 || x0.shape[0] !== x1.shape[0] || x0.shape[2] !== x1.shape[2]) {
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `nst: ${side}[0] ${shapeToString(x0.shape)} and ${side}[1] ${shapeToString(x1.shape)} must both be (B, L, D) with the same B and D`,
          { where: input.where },
        );
      }
      return tf.div(tf.matMul(x0 as tf.Tensor3D, x1 as tf.Tensor3D, false, true), x1.shape[2]!);
    };
    const gS = gram(s0, s1, 'stateS');
    const gT = gram(t0, t1, 'stateT');
    if (!tf.util.arraysEqual(gS.shape, gT.shape)) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `nst: student ${shapeToString(s0.shape)} and teacher ${shapeToString(t0.shape)} give similarity matrices ${shapeToString(gS.shape)} vs ${shapeToString(gT.shape)}`,
        { where: input.where, hint: 'batch size and sequence length must match between student and teacher' },
      );
    }
    const d2 = tf.squaredDifference(gS, gT);
    if (!mask) return tf.mean<tf.Scalar>(d2);
    const [B, Lq, Lk] = gS.shape;
    const m = maskToFloat(mask, [B, Lq], ctx);
    if (Lq !== Lk)
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `nst: a mask needs X0 and X1 of the same length, got ${shapeToString(gS.shape)}`,
        { where: input.where },
      );
    const pm = tf.mul(tf.expandDims(m, 2), tf.expandDims(m, 1));
    return divByCount(tf.sum(tf.mul(d2, pm)), tf.sum(tf.square(tf.sum(m, 1))));
  });
}

/** Factory of the `nst` match-loss plugin (alias `mmd`; see {@link nst}). */
export function nstLoss(): MatchLossPlugin {
  return {
    meta: {
      name: 'nst',
      version: VERSION,
      kind: 'match-loss',
      aliases: ['mmd'],
      description: 'NST/MMD: MSE of X0·X1ᵀ/D similarity matrices, pair input, D may differ',
    },
    arity: 'pair',
    features: ['hidden'],
    compute: (input) => nst(input),
  };
}
