/**
 * The training loop's bookkeeping as a pure plan: which batch is forwarded when, after which
 * batches the optimizer steps, when checkpoints are written. The real loop consumes this plan,
 * and the conformance runner checks it against TextBrewer's own traces, so both share one source.
 *
 * Rules (TextBrewer `BasicDistiller.train`):
 * - every batch is forwarded; its loss is divided by the size of its accumulation group;
 * - after each g-th batch (counted from 0 inside an epoch, or globally in steps mode) the optimizer
 *   and LR scheduler step and global_step increments;
 * - epoch mode: checkpoint points = {⌊spe·i/ckptFrequency⌋}; a save happens when
 *   global_step mod spe is a point and (epoch+1) % ckptEpochFrequency == 0 or it is the last epoch;
 * - steps mode: data is cycled; save when global_step % ckptSteps == 0 or global_step == numSteps.
 *
 * Deliberate difference (`compat: "distillery"`, the default): the n mod g leftover batches of an
 * epoch are applied as a final, smaller accumulation group (loss divided by the group's real size)
 * instead of being dropped, so spe = ⌈n/g⌉. `compat: "textbrewer"` reproduces TextBrewer exactly:
 * spe = ⌊n/g⌋ and leftover gradients are discarded at the next epoch's start.
 */

/** Inputs of {@link planLoop}. */
export interface LoopParams {
  /** Batches per epoch (dataloader length). */
  nBatches: number;
  gradientAccumulationSteps: number;
  numEpochs?: number;
  numSteps?: number;
  ckptFrequency: number;
  ckptEpochFrequency: number;
  ckptSteps?: number | null;
  compat: 'distillery' | 'textbrewer';
}

/** One thing the loop does. `counter` counts forwarded batches from 0 over the whole run. */
export type LoopEvent =
  | { type: 'epochBegin'; epoch: number }
  | { type: 'forward'; counter: number; epoch: number; dataIndex: number; groupSize: number; globalStep: number }
  | { type: 'discardGradients'; epoch: number }
  | { type: 'optimizerStep'; globalStep: number; afterCounter: number; epoch: number }
  | { type: 'checkpoint'; globalStep: number; epoch: number }
  | { type: 'epochEnd'; epoch: number };

/** A loop plan: totals and the event sequence. */
export interface LoopPlan {
  mode: 'epochs' | 'steps';
  totalSteps: number;
  stepsPerEpoch?: number;
  events(): Generator<LoopEvent>;
}

/** Build the plan. Throws on inconsistent settings (both or neither of numEpochs/numSteps, empty data). */
export function planLoop(p: LoopParams): LoopPlan {
  const g = p.gradientAccumulationSteps;
  if (p.nBatches < 1) throw new Error('the dataloader has no batches');
  if ((p.numEpochs === undefined) === (p.numSteps === undefined)) {
    throw new Error('set exactly one of training.numEpochs and training.numSteps');
  }
  if (p.numSteps !== undefined) return stepsPlan(p, g, p.numSteps);
  const tb = p.compat === 'textbrewer';
  const spe = tb ? Math.floor(p.nBatches / g) : Math.ceil(p.nBatches / g);
  if (spe < 1)
    throw new Error(`gradientAccumulationSteps (${g}) exceeds the number of batches per epoch (${p.nBatches})`);
  const epochs = p.numEpochs!;
  const total = spe * epochs;
  const points = new Set<number>();
  for (let i = 0; i < p.ckptFrequency; i++) points.add(Math.floor((spe * i) / p.ckptFrequency));
  return {
    mode: 'epochs',
    totalSteps: total,
    stepsPerEpoch: spe,
    *events() {
      let counter = 0;
      let gs = 0;
      for (let epoch = 0; epoch < epochs; epoch++) {
        yield { type: 'epochBegin', epoch };
        if (tb && epoch > 0 && p.nBatches % g !== 0) yield { type: 'discardGradients', epoch };
        for (let b = 0; b < p.nBatches; b++) {
          const groupStart = b - (b % g);
          const groupSize = tb ? g : Math.min(g, p.nBatches - groupStart);
          yield { type: 'forward', counter, epoch, dataIndex: b, groupSize, globalStep: gs };
          const endsGroup = (b + 1) % g === 0 || (!tb && b === p.nBatches - 1);
          if (endsGroup) {
            gs++;
            yield { type: 'optimizerStep', globalStep: gs, afterCounter: counter, epoch };
            const saveEpoch = (epoch + 1) % p.ckptEpochFrequency === 0 || epoch + 1 === epochs;
            if (points.has(gs % spe) && saveEpoch) yield { type: 'checkpoint', globalStep: gs, epoch };
          }
          counter++;
        }
        yield { type: 'epochEnd', epoch };
      }
    },
  };
}

function stepsPlan(p: LoopParams, g: number, numSteps: number): LoopPlan {
  return {
    mode: 'steps',
    totalSteps: numSteps,
    *events() {
      let counter = 0;
      let gs = 0;
      let epoch = -1;
      while (gs < numSteps) {
        const b = counter % p.nBatches;
        if (b === 0) {
          if (epoch >= 0) yield { type: 'epochEnd', epoch };
          epoch++;
          yield { type: 'epochBegin', epoch };
        }
        yield { type: 'forward', counter, epoch, dataIndex: b, groupSize: g, globalStep: gs };
        if ((counter + 1) % g === 0) {
          gs++;
          yield { type: 'optimizerStep', globalStep: gs, afterCounter: counter, epoch };
          if ((p.ckptSteps && gs % p.ckptSteps === 0) || gs === numSteps)
            yield { type: 'checkpoint', globalStep: gs, epoch };
        }
        counter++;
      }
      yield { type: 'epochEnd', epoch };
    },
  };
}

/** Weight in effect at `globalStep` (TextBrewer: the scheduled value replaces the configured one after the first step). */
export function scheduledWeight(
  base: number,
  schedule: ((x: number) => number) | undefined,
  globalStep: number,
  totalSteps: number,
): number {
  if (!schedule || globalStep === 0) return base;
  return schedule(globalStep / totalSteps);
}
