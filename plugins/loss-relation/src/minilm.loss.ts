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

/** Options of the `minilm` loss (the match entry's `options`). */
export interface MiniLmOptions {
  /** Relation heads the value vectors are split into (default: the attention's H). Must divide D_S and D_T. */
  readonly heads?: number;
  /** Whether the first pair element holds probabilities (`'probs'`, default) or raw scores (`'scores'`, softmaxed here). */
  readonly attention?: 'probs' | 'scores';
}

/** Floor for probabilities before the log (probabilities of padded keys are ~e^−10000 = 0). */
const PROB_FLOOR = 1e-12;
/** Bias on padded key columns of the value relation (finite so 0·x stays 0). */
const KEY_MASK_BIAS = -1e9;

/**
 * MiniLM deep self-attention distillation (Wang et al. 2020): attention-distribution transfer
 * plus value-relation transfer, on the last layer.
 *
 * **Input convention** (pair arity): `stateS = [A_S, V_S]`, `stateT = [A_T, V_T]` where A is the
 * last layer's attention, (B, H, L, L) probabilities (or raw scores with
 * `options.attention: 'scores'`), and V the same layer's value vectors (B, L, D) (heads
 * concatenated; D_S and D_T may differ). `options.heads` (default H) is the number of relation
 * heads the values are split into.
 *
 *   AT  = KL(A_T ‖ A_S) per (b, h, i) row: Σ_j A_T·(log A_T − log A_S)
 *   VR  = softmax(V_h · V_hᵀ / √d_h) per head h, d_h = D / heads (over keys)
 *   VRL = KL(VR_T ‖ VR_S) per (b, h, i) row
 *   loss = mean_AT + mean_VRL
 *
 * - Reduction: each term is averaged over heads and query positions: Σ_{b,h,i} m_bi·KL / (H·Σ_b n_b)
 *   with a mask (B, L) (`maskS ?? maskT`), or the mean over all B·H·L rows without one.
 * - Mask rule: padded query rows are excluded; padded keys are excluded from the value relation
 *   softmax (and from the score softmax with `attention: 'scores'`); given probabilities already
 *   put ~0 mass on padded keys. Probabilities are floored at 1e-12 inside the log, so zeros never
 *   give NaN. Empty mask: 0.
 */
export function miniLm(input: MatchLossInput): tf.Scalar {
  const ctx = { op: 'minilm', where: input.where };
  const [aS, vS] = pair(input.stateS, 'stateS', ctx);
  const [aT, vT] = pair(input.stateT, 'stateT', ctx);
  const opts = (input.options ?? {}) as MiniLmOptions;
  if (aS.rank !== 4 || !tf.util.arraysEqual(aS.shape, aT.shape)) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `minilm: attention must be (B, H, L, L) on both sides with the same shape, got stateS[0] ${shapeToString(aS.shape)} and stateT[0] ${shapeToString(aT.shape)}`,
      {
        where: input.where,
        hint: 'the student needs as many attention heads as the teacher for MiniLM attention transfer',
      },
    );
  }
  const [B, H, L, Lk] = aS.shape as [number, number, number, number];
  for (const [v, n] of [
    [vS, 'stateS[1]'],
    [vT, 'stateT[1]'],
  ] as const) {
    if (v.rank !== 3 || v.shape[0] !== B || v.shape[1] !== L || L !== Lk) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `minilm: ${n} must be values (B, L, D) = (${B}, ${L}, D), got ${shapeToString(v.shape)}`,
        {
          where: input.where,
        },
      );
    }
  }
  const heads = opts.heads ?? H;
  if (!Number.isInteger(heads) || heads < 1 || vS.shape[2]! % heads !== 0 || vT.shape[2]! % heads !== 0) {
    throw new DistilleryError(
      'INVALID_INPUT',
      `minilm: options.heads = ${String(opts.heads ?? H)} must be a positive integer dividing D_S = ${vS.shape[2]} and D_T = ${vT.shape[2]}`,
      { where: input.where },
    );
  }
  if (opts.attention !== undefined && opts.attention !== 'probs' && opts.attention !== 'scores') {
    throw new DistilleryError(
      'INVALID_INPUT',
      `minilm: options.attention must be "probs" or "scores", got ${JSON.stringify(opts.attention)}`,
      { where: input.where },
    );
  }
  const mask = maskOf(input);
  return tf.tidy(() => {
    const m = mask ? maskToFloat(mask, [B, L], ctx) : undefined;
    const keyBias = m ? tf.reshape(tf.mul(tf.sub(1, m), KEY_MASK_BIAS), [B, 1, 1, L]) : undefined;
    // Mean of per-row KLs over heads × real queries.
    const reduce = (kl: tf.Tensor, h: number): tf.Scalar => {
      if (!m) return tf.mean<tf.Scalar>(kl);
      return divByCount(tf.sum(tf.mul(kl, tf.reshape(m, [B, 1, L]))), tf.mul(tf.sum(m), h));
    };
    const logProbs = (a: tf.Tensor): tf.Tensor =>
      opts.attention === 'scores'
        ? tf.logSoftmax(keyBias ? tf.add(a, keyBias) : a, -1)
        : tf.log(tf.maximum(a, PROB_FLOOR));
    const logAS = logProbs(aS);
    const logAT = logProbs(aT);
    const atKl = tf.sum(tf.mul(tf.exp(logAT), tf.sub(logAT, logAS)), -1); // (B, H, L)
    const relation = (v: tf.Tensor): tf.Tensor => {
      const D = v.shape[2]!;
      const dh = D / heads;
      const vh = tf.transpose<tf.Tensor4D>(tf.reshape(v, [B, L, heads, dh]), [0, 2, 1, 3]); // (B, heads, L, dh)
      const scores = tf.div(tf.matMul(vh, vh, false, true), Math.sqrt(dh));
      return tf.logSoftmax(keyBias ? tf.add(scores, keyBias) : scores, -1);
    };
    const logRS = relation(vS);
    const logRT = relation(vT);
    const vrKl = tf.sum(tf.mul(tf.exp(logRT), tf.sub(logRT, logRS)), -1); // (B, heads, L)
    return tf.add<tf.Scalar>(reduce(atKl, H), reduce(vrKl, heads));
  });
}

/** Factory of the `minilm` match-loss plugin (see {@link miniLm} for the input convention). */
export function miniLmLoss(): MatchLossPlugin {
  return {
    meta: {
      name: 'minilm',
      version: VERSION,
      kind: 'match-loss',
      description: 'MiniLM: KL of attention distributions + KL of value relations; stateS/T = [attentionProbs, values]',
    },
    arity: 'pair',
    features: ['attention', 'hidden'],
    compute: (input) => miniLm(input),
  };
}
