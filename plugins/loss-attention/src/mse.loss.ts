import * as tf from '@tensorflow/tfjs-core';
import { divByCount, type MatchLossInput, type MatchLossPlugin } from '@distillery/core';
import { VERSION, attentionInputs, dropPadding, pairMask, type HeadReduction } from './common.js';

function attentionMseImpl(input: MatchLossInput, op: string, heads: HeadReduction): tf.Scalar {
  return tf.tidy(() => {
    const { s, t, m, exact, H } = attentionInputs(input, op, heads);
    if (!m) {
      if (exact) return tf.mean<tf.Scalar>(tf.squaredDifference(s, t));
      // TextBrewer: values ≤ −1e-3 are taken for padding and zeroed (on raw scores this also
      // drops every ordinary negative score; kept for compatibility, see options.exact).
      return tf.mean<tf.Scalar>(tf.squaredDifference(dropPadding(s), dropPadding(t)));
    }
    const num = tf.sum(tf.mul(tf.squaredDifference(s, t), pairMask(m)));
    const den = tf.mul(tf.sum(tf.square(tf.sum(m, 1))), H); // H · Σ_b n_b²
    return divByCount(num, den);
  });
}

/**
 * Attention MSE (TextBrewer `att_mse_loss`). Inputs (B, H, L, L) (3-D (B, L, L) counts as H = 1),
 * raw scores (with −10000 at padded keys, as BERT) or probabilities.
 *
 * - No mask (default): in S and T every entry ≤ −1e-3 is replaced by 0, then
 *   loss = mean of (S − T)² over all elements.
 * - With mask (B, L): loss = Σ_{b,h,i,j} m_bi·m_bj·(S − T)² / (H · Σ_b n_b²) (padded query rows and
 *   key columns excluded, no thresholding).
 * - `options.exact: true`: no thresholding without a mask (plain mean over all positions);
 *   the masked form is already exact.
 * - Empty mask: 0.
 */
export function attentionMse(input: MatchLossInput): tf.Scalar {
  return attentionMseImpl(input, 'attention_mse', 'keep');
}

/**
 * Attention MSE on head-summed maps (TextBrewer `att_mse_sum_loss`): a 4-D input is first summed
 * over heads to (B, L, L); then exactly {@link attentionMse} with H = 1 (the no-mask threshold is
 * applied to the summed values). 3-D input is used as is. `options.exact` as for attentionMse.
 */
export function attentionMseSum(input: MatchLossInput): tf.Scalar {
  return attentionMseImpl(input, 'attention_mse_sum', 'sum');
}

/** Factory of the `attention_mse` match-loss plugin (see {@link attentionMse}). */
export function attentionMseLoss(): MatchLossPlugin {
  return {
    meta: {
      name: 'attention_mse',
      version: VERSION,
      kind: 'match-loss',
      description: 'attention MSE (TextBrewer att_mse_loss; options.exact for a true masked MSE)',
    },
    arity: 'single',
    features: ['attention'],
    compute: (input) => attentionMse(input),
  };
}

/** Factory of the `attention_mse_sum` match-loss plugin (see {@link attentionMseSum}). */
export function attentionMseSumLoss(): MatchLossPlugin {
  return {
    meta: {
      name: 'attention_mse_sum',
      version: VERSION,
      kind: 'match-loss',
      description: 'attention MSE on head-summed maps (TextBrewer att_mse_sum_loss)',
    },
    arity: 'single',
    features: ['attention'],
    compute: (input) => attentionMseSum(input),
  };
}
