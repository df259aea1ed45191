/**
 * A small multi-layer perceptron classifier over dense feature vectors (e.g. bag-of-words).
 * Used by the CLI's embedded demo, the examples, and tests; also a reference for writing a
 * {@link DistillModel} and its adaptor by hand.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Adaptor, DistillModel } from './types.js';

/** A batch of dense features: row-major `(batchSize, dim)`. */
export interface FeatureBatch {
  features: Float32Array;
  labels?: Int32Array;
  batchSize: number;
  dim: number;
}

/** Outputs of {@link MlpClassifier.forward}. */
export interface MlpOutput {
  logits: tf.Tensor2D;
  /** Activations after each hidden layer (B, width), for intermediate matches. */
  hidden: tf.Tensor2D[];
  /** Mean cross-entropy when the batch has labels. */
  loss?: tf.Scalar;
}

export interface MlpConfig {
  inputDim: number;
  hidden: number[];
  numLabels: number;
  dropout?: number;
  seed?: number;
}

let instances = 0;

/** Dense → ReLU (→ dropout) layers, then a linear classifier. Weights stored `[out, in]` like PyTorch. */
export class MlpClassifier implements DistillModel<FeatureBatch, MlpOutput> {
  readonly config: MlpConfig;
  private readonly params: Record<string, tf.Variable> = {};
  private readonly id = instances++;

  constructor(config: MlpConfig) {
    this.config = config;
    const dims = [config.inputDim, ...config.hidden, config.numLabels];
    let seed = config.seed ?? 0;
    for (let i = 0; i + 1 < dims.length; i++) {
      const name = i === dims.length - 2 ? 'classifier' : `layers.${i}`;
      // He-style scale keeps ReLU activations well-sized from the start.
      const std = Math.sqrt(2 / dims[i]!);
      this.params[`${name}.weight`] = tf.variable(
        tf.randomNormal([dims[i + 1]!, dims[i]!], 0, std, 'float32', seed++),
        true,
        `mlp${this.id}/${name}.weight`,
      );
      this.params[`${name}.bias`] = tf.variable(tf.zeros([dims[i + 1]!]), true, `mlp${this.id}/${name}.bias`);
    }
  }

  forward(batch: FeatureBatch, opts: { training: boolean }): MlpOutput {
    let h: tf.Tensor2D = tf.tensor2d(batch.features, [batch.batchSize, batch.dim]);
    const hidden: tf.Tensor2D[] = [];
    for (let i = 0; i < this.config.hidden.length; i++) {
      h = tf.relu(
        tf.add(tf.matMul(h, this.params[`layers.${i}.weight`]!, false, true), this.params[`layers.${i}.bias`]!),
      ) as tf.Tensor2D;
      hidden.push(h);
      if (opts.training && this.config.dropout) h = tf.dropout(h, this.config.dropout) as tf.Tensor2D;
    }
    const logits = tf.add<tf.Tensor2D>(
      tf.matMul(h, this.params['classifier.weight']!, false, true),
      this.params['classifier.bias']!,
    );
    const out: MlpOutput = { logits, hidden };
    if (batch.labels) {
      const onehot = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), this.config.numLabels);
      out.loss = tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(onehot, logits);
    }
    return out;
  }

  parameters(): Readonly<Record<string, tf.Variable>> {
    return this.params;
  }

  /** Predicted class per row. */
  predict(batch: FeatureBatch): Int32Array {
    return tf.tidy(() => tf.argMax(this.forward(batch, { training: false }).logits, 1).dataSync() as Int32Array);
  }

  dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
  }
}

/** The adaptor for {@link MlpClassifier}: logits, hidden activations, supervised loss. */
export const mlpAdaptor: Adaptor<FeatureBatch, MlpOutput> = (batch, out) => ({
  logits: out.logits,
  hidden: out.hidden,
  ...(out.loss ? { losses: [out.loss] } : {}),
  ...(batch.labels ? { labels: tf.tensor1d(batch.labels, 'int32') } : {}),
});
