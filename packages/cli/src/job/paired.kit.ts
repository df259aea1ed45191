/**
 * Teacher and student with different tokenizers (`student.tokenizer`): the examples are encoded
 * once per side and batched together (same examples, same order: {@link PairedBatch}); models are
 * wrapped to read their own side, and so are the adaptors. Logit KD needs nothing more; token-level
 * intermediate matches are refused (the two sides' sequences have different lengths).
 */
import { DistilleryError, type DistillModel, type IntermediateMatch } from '@distillery/core';
import { PairedBatchIterator, makePairedBatches, type PairedBatch } from '@distillery/data';
import type { Kit } from './kits.js';
import type { BertKitItems } from './bert.kit.js';
import type { EncodedBatch } from '@distillery/data';

type BertKit = Kit<EncodedBatch> & { items: BertKitItems };

/** Match losses that pool over tokens (fine between sequences of different lengths). */
export const TOKEN_POOLING_LOSSES: ReadonlySet<string> = new Set(['fsp', 'gram', 'pkd']);

/** Refuse matches that compare token sequences when the sides tokenize differently. */
export function checkMatchesAcrossTokenizers(matches: readonly IntermediateMatch[]): void {
  matches.forEach((m, i) => {
    if (!TOKEN_POOLING_LOSSES.has(m.loss)) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        `distillation.intermediateMatches[${i}] (${m.feature}, loss "${m.loss}", layerT ${JSON.stringify(m.layerT)} → layerS ${JSON.stringify(m.layerS)}) compares the two models token by token, but teacher and student tokenize differently (student.tokenizer), so their sequences have different lengths`,
        {
          where: `distillation.intermediateMatches[${i}].loss`,
          hint: `use a loss that pools over tokens (${[...TOKEN_POOLING_LOSSES].join(', ')}), remove the match, or give the student the teacher's tokenizer (remove student.tokenizer)`,
        },
      );
    }
  });
}

/** A model of one side reading its half of a paired batch. */
interface SideModel extends DistillModel<PairedBatch> {
  readonly inner: DistillModel<EncodedBatch>;
  readonly side: 'teacher' | 'student';
}

function sideModel(inner: DistillModel<EncodedBatch>, side: 'teacher' | 'student'): SideModel {
  const w = (inner as { weights?: () => unknown }).weights;
  return {
    inner,
    side,
    forward: (pb, o) => inner.forward(pb[side], o),
    parameters: () => inner.parameters(),
    ...(w ? { weights: () => w.call(inner) } : {}),
    dispose: () => inner.dispose?.(),
  };
}

/** The model a side wrapper holds (for exporting the student's folder). */
export function innerModel<B>(m: DistillModel<B>): DistillModel<unknown> {
  return (m as Partial<SideModel>).inner ?? m;
}

/** Pair the teacher's kit and the student's (own tokenizer) kit over the same examples. */
export function pairedKit(t: BertKit, s: BertKit, batchSize: number): Kit<PairedBatch> {
  const train = (seed: number) =>
    new PairedBatchIterator(t.items.train, s.items.train, { batchSize, shuffle: true, seed, bucketPools: 8 });
  const tm = t.items.mixed;
  const sm = s.items.mixed;
  return {
    trainSource: train,
    ...(tm && sm
      ? {
          distillSource: (seed: number) =>
            new PairedBatchIterator(tm, sm, { batchSize, shuffle: true, seed, bucketPools: 8 }),
        }
      : {}),
    testBatches: () => makePairedBatches(t.items.test, s.items.test, { batchSize: 128 }),
    evalBatches: (xs) => makePairedBatches(t.items.encode(xs), s.items.encode(xs), { batchSize: 128 }),
    tokenizerFiles: () => s.tokenizerFiles?.() ?? {},
    build: async (m, seed, role) => sideModel(await (role === 'teacher' ? t : s).build(m, seed, role), role),
    adaptor: (pb, out) => t.adaptor(pb.teacher, out),
    studentAdaptor: (pb, out) => (s.studentAdaptor ?? s.adaptor)(pb.student, out),
    predict: (m, pb) => {
      const sm = m as SideModel;
      return (sm.side === 'teacher' ? t : s).predict(sm.inner, pb[sm.side]);
    },
    labelsOf: (pb) => pb.teacher.labels!,
  };
}
