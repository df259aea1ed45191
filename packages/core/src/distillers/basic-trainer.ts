/**
 * BasicTrainer: plain supervised training through the adaptor's `losses`
 * (total = Σ mean(losses_i)), with the same loop, checkpoints, events and hooks as the distillers.
 */
import type { Adaptor } from '../model/types.js';
import { validateAdaptorOutput } from '../model/validate.js';
import { hardLabelTerm, type LossResult } from './compute-loss.js';
import { TrainerBase, type BatchContext, type TrainerBaseOptions } from './trainer-base.js';
import { DistilleryError } from '../util/errors.js';

export interface BasicTrainerOptions<B, O> extends TrainerBaseOptions<B> {
  /** Maps (batch, model outputs) to `{ losses }`. */
  adaptor: Adaptor<B, O>;
}

export class BasicTrainer<B, O = unknown> extends TrainerBase<B> {
  private readonly adaptor: Adaptor<B, O>;
  constructor(o: BasicTrainerOptions<B, O>) {
    super(o);
    this.adaptor = o.adaptor;
  }

  protected override batchLoss(batch: B, ctx: BatchContext): LossResult {
    const out = this.adaptor(batch, this.student.forward(batch, { training: true }) as O);
    if (ctx.first) validateAdaptorOutput('student', out, { losses: true });
    const loss = hardLabelTerm(out);
    if (!loss)
      throw new DistilleryError('ADAPTOR_OUTPUT', 'adaptor returned no "losses"', { where: 'student adaptor' });
    return { total: loss, losses: { loss } };
  }
}
