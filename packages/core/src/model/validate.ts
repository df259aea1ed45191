/**
 * First-step validation of adaptor outputs: missing keys and wrong ranks are reported with the
 * side, the key, the shape found and the shape expected — before any loss is computed.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '../util/errors.js';
import type { AdaptorOutput } from './types.js';

/** What a distiller will read from one side's adaptor output. */
export interface AdaptorNeeds {
  logits?: boolean;
  losses?: boolean;
  labels?: boolean;
  /** feature name → highest layer index used. */
  features?: Record<string, number>;
}

const RANKS: Record<string, { ranks: number[]; shape: string }> = {
  logits: { ranks: [2, 3], shape: '(B, C) or (B, L, C)' },
  logitsMask: { ranks: [2], shape: '(B, L)' },
  labels: { ranks: [1, 2], shape: '(B,) or (B, L)' },
  losses: { ranks: [0, 1, 2], shape: 'a scalar or per-example losses' },
  inputsMask: { ranks: [2], shape: '(B, L)' },
  hidden: { ranks: [2, 3], shape: '(B, L, D)' },
  attention: { ranks: [3, 4], shape: '(B, H, L, L) or (B, L, L)' },
};

function isTensor(x: unknown): x is tf.Tensor {
  return typeof x === 'object' && x !== null && 'rank' in x && 'shape' in x && 'dtype' in x;
}

/** Throws a diagnosing `ADAPTOR_OUTPUT` error when `out` does not provide what `needs` says. */
export function validateAdaptorOutput(
  side: 'student' | 'teacher',
  out: unknown,
  needs: AdaptorNeeds,
): asserts out is AdaptorOutput {
  const where = `${side} adaptor`;
  if (typeof out !== 'object' || out === null || Array.isArray(out)) {
    throw new DistilleryError(
      'ADAPTOR_OUTPUT',
      `must return an object, got ${Array.isArray(out) ? 'an array' : typeof out}`,
      {
        where,
        hint: 'return { logits, losses, hidden, attention, inputsMask, ... }',
      },
    );
  }
  const o = out as Record<string, unknown>;
  const required = [
    ...(needs.logits ? ['logits'] : []),
    ...(needs.losses ? ['losses'] : []),
    ...(needs.labels ? ['labels'] : []),
    ...Object.keys(needs.features ?? {}),
  ];
  for (const k of required) {
    if (o[k] === undefined) {
      throw new DistilleryError(
        'ADAPTOR_OUTPUT',
        `missing key "${k}" (present: ${Object.keys(o).join(', ') || 'none'})`,
        {
          where,
          hint: k in RANKS ? `return ${k}: ${RANKS[k]!.shape}` : `return ${k}: a list of tensors`,
        },
      );
    }
  }
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    const items = Array.isArray(v) ? (v as unknown[]) : [v];
    items.forEach((t, i) => {
      const label = Array.isArray(v) ? `${k}[${i}]` : k;
      if (!isTensor(t)) {
        throw new DistilleryError('ADAPTOR_OUTPUT', `"${label}" is not a tensor`, {
          where,
          hint: 'adaptor fields hold tf.Tensor or lists of them',
        });
      }
      const spec = RANKS[k];
      if (spec && !spec.ranks.includes(t.rank)) {
        throw new DistilleryError(
          'ADAPTOR_OUTPUT',
          `"${label}" has shape [${t.shape.join(', ')}] (rank ${t.rank}); expected ${spec.shape}`,
          { where },
        );
      }
    });
  }
  for (const [f, maxLayer] of Object.entries(needs.features ?? {})) {
    const list = o[f];
    if (!Array.isArray(list)) {
      throw new DistilleryError('ADAPTOR_OUTPUT', `"${f}" must be a list of per-layer tensors`, {
        where,
        hint: `return ${f}: [layer0, layer1, ...]`,
      });
    }
    if (maxLayer >= list.length) {
      throw new DistilleryError(
        'ADAPTOR_OUTPUT',
        `"${f}" has ${list.length} layers but the config uses layer ${maxLayer}`,
        {
          where,
          hint: `use layers 0..${list.length - 1} in intermediateMatches, or return more layers`,
        },
      );
    }
  }
}
