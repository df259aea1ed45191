import * as tf from '@tensorflow/tfjs-core';
import { divByCount, type MatchLossInput, type MatchLossPlugin } from '@distillery/core';
import { VERSION, attentionInputs, isPadding, pairMask, type HeadReduction } from './common.js';

/** Added to padded key columns in exact mode: far below any score, finite so 0·x stays 0. */
const KEY_MASK_BIAS = -1e9;

function attentionCeImpl(input: MatchLossInput, op: string, heads: HeadReduction): tf.Scalar {
  return tf.tidy(() => {
    const { s, t, m, exact, H } = attentionInputs(input, op, heads);
    if (!m) {
      const p = tf.softmax(t, -1);
      // TextBrewer: teacher probabilities whose raw score is ≤ −1e-3 are zeroed, not renormalised.
      const pSel = exact ? p : tf.where(isPadding(t), tf.zerosLike(p), p);
      return tf.neg(tf.mean(tf.sum(tf.mul(pSel, tf.logSoftmax(s, -1)), -1))) as tf.Scalar;
    }
    const [B, , , L] = s.shape;
    let sS: tf.Tensor = s;
    let sT: tf.Tensor = t;
    if (exact) {
      // Renormalise both distributions over the real keys only.
      const bias = tf.reshape(tf.mul(tf.sub(1, m), KEY_MASK_BIAS), [B, 1, 1, L]);
      sS = tf.add(s, bias);
      sT = tf.add(t, bias);
    }
    const pq = tf.mul(tf.softmax(sT, -1), tf.logSoftmax(sS, -1));
    // 0 − x rather than −x so an empty mask gives +0, not −0.
    const num = tf.sub(0, tf.sum(tf.mul(pq, pairMask(m))));
    return divByCount(num, tf.mul(tf.sum(m), H)); // H · Σ_b n_b
  });
}

/**
 * Attention cross-entropy (TextBrewer `att_ce_loss`). Expects raw scores (B, H, L, L)
 * (3-D counts as H = 1): P = softmax(T) and log Q = log_softmax(S) over keys.
 *
 * - No mask (default): entries of P whose teacher raw score is ≤ −1e-3 are set to 0 (no
 *   renormalisation); loss = mean over the B·H·L rows of −Σ_j P·log Q.
 * - With mask: loss = −Σ_{b,h,i,j} m_bi·m_bj·P·log Q / (H · Σ_b n_b); P is the softmax over all
 *   keys (not renormalised over real keys).
 * - `options.exact: true`: no thresholding (all positions count without a mask); with a mask,
 *   P and Q are softmaxes over the real keys only, so each real row is a true cross-entropy.
 * - Empty mask: 0. Passing probabilities instead of scores is accepted but is not a CE of the maps.
 */
export function attentionCe(input: MatchLossInput): tf.Scalar {
  return attentionCeImpl(input, 'attention_ce', 'keep');
}

/**
 * Attention cross-entropy on head-averaged scores (TextBrewer `att_ce_mean_loss`): a 4-D input is
 * first averaged over heads (a mean of raw scores) to (B, L, L); then {@link attentionCe} with H = 1
 * (with a mask the divisor is Σ_b n_b). 3-D input is used as is. `options.exact` as for attentionCe.
 */
export function attentionCeMean(input: MatchLossInput): tf.Scalar {
  return attentionCeImpl(input, 'attention_ce_mean', 'mean');
}

/** Factory of the `attention_ce` match-loss plugin (see {@link attentionCe}). */
export function attentionCeLoss(): MatchLossPlugin {
  return {
    meta: {
      name: 'attention_ce',
      version: VERSION,
      kind: 'match-loss',
      description: 'attention CE on raw scores (TextBrewer att_ce_loss; options.exact renormalises over real keys)',
    },
    arity: 'single',
    features: ['attention'],
    compute: (input) => attentionCe(input),
  };
}

/** Factory of the `attention_ce_mean` match-loss plugin (see {@link attentionCeMean}). */
export function attentionCeMeanLoss(): MatchLossPlugin {
  return {
    meta: {
      name: 'attention_ce_mean',
      version: VERSION,
      kind: 'match-loss',
      description: 'attention CE on head-averaged scores (TextBrewer att_ce_mean_loss)',
    },
    arity: 'single',
    features: ['attention'],
    compute: (input) => attentionCeMean(input),
  };
}
