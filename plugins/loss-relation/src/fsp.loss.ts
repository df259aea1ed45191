import * as tf from '@tensorflow/tfjs-core';
import {
  DistilleryError,
  maskToFloat,
  shapeToString,
  type MatchLossInput,
  type MatchLossPlugin,
} from '@distillery/core';
import { VERSION, maskOf, pair } from './common.js';

/**
 * FSP / Gram-matrix loss (TextBrewer `fsp_loss`, names `fsp` and `gram`; Yim et al. 2017).
 *
 * `stateS` = [X0, X1] and `stateT` = [X0, X1], each (B, L, D); the student and teacher Gram
 * matrices must have the same size (project the student first when D differs).
 *
 *   G = X0ᵀ · X1 / L       (a D×D matrix per example)
 *   loss = mean over B·D·D of (G_S − G_T)²
 *
 * - With a mask (B, L): masked positions are zeroed in X0 and X1 and each example is divided by
 *   its own n_b (real-token count) instead of L.
 * - An example with no real token (n_b = 0) gets G = 0 on both sides (not NaN).
 */
export function fsp(input: MatchLossInput): tf.Scalar {
  const ctx = { op: 'fsp', where: input.where };
  const [s0, s1] = pair(input.stateS, 'stateS', ctx);
  const [t0, t1] = pair(input.stateT, 'stateT', ctx);
  const mask = maskOf(input);
  return tf.tidy(() => {
    const gram = (x0: tf.Tensor, x1: tf.Tensor, side: string): tf.Tensor3D => {
      if (x0.rank !== 3 || x1.rank !== 3 || x0.shape[0] !== x1.shape[0] || x0.shape[1] !== x1.shape[1]) {
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `fsp: ${side}[0] ${shapeToString(x0.shape)} and ${side}[1] ${shapeToString(x1.shape)} must both be (B, L, D) with the same B and L`,
          { where: input.where },
        );
      }
      const [B, L] = x0.shape as [number, number, number];
      if (!mask) return tf.div(tf.matMul(x0 as tf.Tensor3D, x1 as tf.Tensor3D, true, false), L);
      const m = maskToFloat(mask, [B, L], ctx);
      const m3 = tf.expandDims(m, -1);
      const n = tf.maximum(tf.sum(m3, 1, true), 1); // (B, 1, 1); empty rows → G = 0
      return tf.div(tf.matMul(tf.mul<tf.Tensor3D>(x0, m3), tf.mul<tf.Tensor3D>(x1, m3), true, false), n);
    };
    const gS = gram(s0, s1, 'stateS');
    const gT = gram(t0, t1, 'stateT');
    if (!tf.util.arraysEqual(gS.shape, gT.shape)) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `fsp: student Gram ${shapeToString(gS.shape)} (from ${shapeToString(s0.shape)}, ${shapeToString(s1.shape)}) does not match teacher Gram ${shapeToString(gT.shape)} (from ${shapeToString(t0.shape)}, ${shapeToString(t1.shape)})`,
        {
          where: input.where,
          hint: 'fsp needs the same hidden size on both sides; add "proj" to the match or use nst',
        },
      );
    }
    return tf.mean<tf.Scalar>(tf.squaredDifference(gS, gT));
  });
}

/** Factory of the `fsp` match-loss plugin (alias `gram`; see {@link fsp}). */
export function fspLoss(): MatchLossPlugin {
  return {
    meta: {
      name: 'fsp',
      version: VERSION,
      kind: 'match-loss',
      aliases: ['gram'],
      description: 'FSP/Gram: mean (X0ᵀX1/L)_S − (X0ᵀX1/L)_T squared, pair input',
    },
    arity: 'pair',
    features: ['hidden'],
    compute: (input) => fsp(input),
  };
}
