/**
 * GeneralDistiller: BasicDistiller plus any number of `intermediateMatches` (hidden states,
 * attention, or any adaptor feature) with optional trainable projections. Projections are trained
 * with the student (their own lr if `proj[3].lr`), included in gradient clipping, and saved in and
 * restored from checkpoints (TextBrewer does none of the last two).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Projection } from '../plugin/types.js';
import { BasicDistiller, type DistillerOptions } from './basic-distiller.js';

/** Name prefix of projection parameters in checkpoints. */
export const PROJECTION_PREFIX = 'distillery.projections';

// tfjs variable names are engine-global: each distiller's projections get their own namespace.
let instances = 0;

export class GeneralDistiller<B, OS = unknown, OT = unknown> extends BasicDistiller<B, OS, OT> {
  /** Projection of each match (undefined where the match has none). */
  readonly projections: readonly (Projection | undefined)[];
  private readonly projLr = new Map<string, number>();

  constructor(o: DistillerOptions<B, OS, OT>) {
    super(o);
    const seed = this.trainingConfig.seed;
    const ns = `gd${instances++}`;
    this.projections = this.distillationConfig.intermediateMatches.map((m, i) => {
      if (!m.proj) return undefined;
      const [kind, dimS, dimT, opts] = m.proj as [string, number, number, Record<string, unknown> | undefined];
      const plugin = this.registry.get('projection', kind, `distillation.intermediateMatches[${i}].proj[0]`);
      const p = plugin.create(
        { dimS, dimT, name: `${ns}.${PROJECTION_PREFIX}.${i}`, seed: seed + 1000 + i, options: opts ?? {} },
        this.registry.context(plugin),
      );
      if (typeof opts?.lr === 'number') for (const v of p.variables) this.projLr.set(this.projName(i, v), opts.lr);
      return p;
    });
  }

  protected override checkMatchesAllowed(): void {}

  protected override extraParameters(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    this.projections.forEach((p, i) => p?.variables.forEach((v) => (out[this.projName(i, v)] = v)));
    return out;
  }

  protected override projectionMeta(): Record<string, string> {
    // What each projection belongs to, so a checkpoint's projections.safetensors is self-describing.
    const out: Record<string, string> = {};
    this.distillationConfig.intermediateMatches.forEach((m, i) => {
      if (m.proj)
        out[`match.${i}`] = JSON.stringify({
          index: i,
          layerT: m.layerT,
          layerS: m.layerS,
          feature: m.feature,
          loss: m.loss,
          proj: m.proj,
        });
    });
    return out;
  }

  protected override lrOverride(name: string): number | undefined {
    return this.projLr.get(name);
  }

  protected override lossExtras() {
    return { projections: this.projections };
  }

  /** Free the projections' variables. */
  dispose(): void {
    for (const p of this.projections) p?.dispose();
  }

  private projName(i: number, v: tf.Variable): string {
    // Variable names are engine-unique; keep the suffix after the match prefix (e.g. "weight").
    const suffix = v.name.split('/').pop()!.replace(/^.*\./, '');
    return `${PROJECTION_PREFIX}.${i}.${suffix}`;
  }
}
