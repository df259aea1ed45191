import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PluginRegistry } from '../plugin/registry.js';
import { silentLogger } from '../util/logger.js';
import { parseConfig } from '../config/validate.js';
import { DistillationConfigSchema } from '../config/schema.js';
import { computeDistillationLoss, matchKey } from './compute-loss.js';
import { probabilityShift, selectLogitsWithMask } from '../tensor/index.js';

let registry: PluginRegistry;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registry = new PluginRegistry({ logger: silentLogger });
  await registry.loadBuiltins();
});

const cfg = (o: object) => parseConfig(DistillationConfigSchema, o);

describe('computeDistillationLoss fixes TextBrewer defects', () => {
  it('probability shift happens before masking, so labels stay aligned with 3-D logits', () => {
    tf.tidy(() => {
      const lS = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
      const lT = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 2);
      const mask = tf.tensor2d([[1, 0, 1], [1, 1, 0]], [2, 3], 'int32');
      const labels = tf.tensor2d([[3, -100, 0], [1, 2, -100]], [2, 3], 'int32');
      const config = cfg({ temperature: 2, probabilityShift: true });
      const got = computeDistillationLoss({ logits: lS, logitsMask: mask, labels }, { logits: lT, logitsMask: mask }, { config, registry }).total.dataSync()[0]!;
      // Reference: shift every row with its own label, then keep the real rows.
      const [s] = selectLogitsWithMask([lS], [mask]);
      const [t] = selectLogitsWithMask([probabilityShift(lT, labels)], [mask]);
      const ref = registry.get('kd-loss', 'ce').compute({ logitsS: s!, logitsT: t!, temperature: 2 }, registry.context('ce')).dataSync()[0]!;
      expect(got).toBeCloseTo(ref, 6);
    });
  });

  it('one logits mask serves several 3-D heads (TextBrewer crashes)', () => {
    tf.tidy(() => {
      const heads = [tf.randomNormal([2, 3, 4], 0, 1, 'float32', 3), tf.randomNormal([2, 3, 5], 0, 1, 'float32', 4)];
      const headsT = [tf.randomNormal([2, 3, 4], 0, 1, 'float32', 5), tf.randomNormal([2, 3, 5], 0, 1, 'float32', 6)];
      const mask = tf.tensor2d([[1, 1, 0], [1, 0, 0]], [2, 3], 'int32');
      const one = computeDistillationLoss({ logits: heads, logitsMask: mask }, { logits: headsT, logitsMask: mask }, { config: cfg({}), registry });
      const two = computeDistillationLoss({ logits: heads, logitsMask: [mask, mask] }, { logits: headsT, logitsMask: [mask, mask] }, { config: cfg({}), registry });
      expect(one.total.dataSync()[0]).toBeCloseTo(two.total.dataSync()[0]!, 6);
    });
  });

  it("each side passes its own inputs mask to match losses (textbrewer compat: the student's)", () => {
    tf.tidy(() => {
      const config = cfg({ intermediateMatches: [{ layerT: 0, layerS: 0, feature: 'hidden', loss: 'hidden_mse' }] });
      const hS = tf.randomNormal([1, 3, 2], 0, 1, 'float32', 7);
      const hT = tf.randomNormal([1, 3, 2], 0, 1, 'float32', 8);
      const logits = tf.zeros([1, 2]);
      const resS = { logits, hidden: [hS] };
      const resT = { logits, hidden: [hT], inputsMask: tf.tensor2d([[1, 1, 0]]) };
      const key = matchKey(config.intermediateMatches[0]!);
      const own = computeDistillationLoss(resS, resT, { config, registry }).losses[key]!.dataSync()[0]!;
      const tb = computeDistillationLoss(resS, resT, { config, registry, compat: 'textbrewer' }).losses[key]!.dataSync()[0]!;
      const masked = tf.mean(tf.square(tf.sub(tf.slice(hS, [0, 0, 0], [1, 2, 2]), tf.slice(hT, [0, 0, 0], [1, 2, 2])))).dataSync()[0]!;
      const full = tf.mean(tf.square(tf.sub(hS, hT))).dataSync()[0]!;
      expect(own).toBeCloseTo(masked, 6); // the teacher's mask is used when the student has none
      expect(tb).toBeCloseTo(full, 6); // TextBrewer: the student's (absent) mask
    });
  });
});
