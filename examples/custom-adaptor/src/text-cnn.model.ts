/**
 * A small 1-D CNN text classifier in plain tfjs-core ops (no BERT): token embeddings → one
 * convolution (kernel 3, "same") + ReLU → max-pool over real tokens → linear classifier.
 * It implements Distillery's `DistillModel`: `forward` builds tensors from the plain batch and
 * `parameters()` names the trainable variables (saved in checkpoints under these names).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DistillModel } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';

/** Sizes of the CNN. */
export interface TextCnnConfig {
  vocabSize: number;
  numLabels: number;
  /** @default 128 */
  embeddingSize?: number;
  /** Convolution channels (the pooled feature's width). @default 192 */
  channels?: number;
  /** @default 3 */
  kernelSize?: number;
  /** @default 0.1 */
  dropout?: number;
  /** @default 1 */
  seed?: number;
}

/** What `forward` returns. */
export interface TextCnnOutput {
  /** (B, C) */
  logits: tf.Tensor2D;
  /** Max-pooled convolution features (B, channels): the sentence vector matched to the teacher's. */
  pooled: tf.Tensor2D;
  /** Mean cross-entropy when the batch has labels. */
  loss?: tf.Scalar;
}

let instances = 0;

export class TextCnn implements DistillModel<EncodedBatch, TextCnnOutput> {
  readonly config: Required<TextCnnConfig>;
  private readonly vars: Record<string, tf.Variable>;

  constructor(c: TextCnnConfig) {
    this.config = { embeddingSize: 128, channels: 192, kernelSize: 3, dropout: 0.1, seed: 1, ...c };
    const { vocabSize: V, numLabels: C, embeddingSize: E, channels: H, kernelSize: K, seed } = this.config;
    const id = instances++; // tfjs variable names are global: one suffix per model
    const init = (shape: number[], std: number, s: number) => tf.randomNormal(shape, 0, std, 'float32', seed * 100 + s);
    // tidy frees the initial values; the variables (never tracked by tidy) keep their own copies.
    this.vars = tf.tidy(() => ({
      'embeddings.weight': tf.variable(init([V, E], 0.1, 1), true, `textcnn${id}.embeddings`),
      'conv.weight': tf.variable(init([K, E, H], Math.sqrt(2 / (K * E)), 2), true, `textcnn${id}.conv.w`),
      'conv.bias': tf.variable(tf.zeros([H]), true, `textcnn${id}.conv.b`),
      'classifier.weight': tf.variable(init([H, C], Math.sqrt(1 / H), 3), true, `textcnn${id}.cls.w`),
      'classifier.bias': tf.variable(tf.zeros([C]), true, `textcnn${id}.cls.b`),
    }));
  }

  parameters(): Readonly<Record<string, tf.Variable>> {
    return this.vars;
  }

  forward(b: EncodedBatch, opts: { training: boolean }): TextCnnOutput {
    const v = this.vars;
    const ids = tf.tensor2d(b.inputIds, [b.batchSize, b.seqLen], 'int32');
    const mask = tf.tensor2d(b.attentionMask, [b.batchSize, b.seqLen], 'float32');
    // Padded positions embed to zero, so they cannot leak into their real neighbours' windows.
    let x = tf.mul<tf.Tensor3D>(tf.gather(v['embeddings.weight']!, ids), tf.expandDims(mask, -1)); // (B, L, E)
    if (opts.training && this.config.dropout > 0) x = tf.dropout(x, this.config.dropout) as tf.Tensor3D;
    const h = tf.relu(tf.add(this.conv(x), v['conv.bias']!)) as tf.Tensor3D; // (B, L, H)
    // Padding must not win the max: push padded positions far below any ReLU output.
    const pooled = tf.max<tf.Tensor2D>(tf.add(h, tf.mul(tf.sub(tf.expandDims(mask, -1), 1), 1e4)), 1);
    const logits = tf.add<tf.Tensor2D>(tf.matMul(pooled, v['classifier.weight'] as tf.Tensor2D), v['classifier.bias']!);
    const out: TextCnnOutput = { logits, pooled };
    if (b.labels)
      out.loss = tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(
        tf.oneHot(tf.tensor1d(b.labels, 'int32'), this.config.numLabels),
        logits,
      );
    return out;
  }

  /**
   * A "same" 1-D convolution as one matMul over unfolded windows: [x(t−k/2) … x(t+k/2)] · W.
   * (Every backend has matMul gradients; not every one registers Conv2DBackpropFilter.)
   */
  private conv(x: tf.Tensor3D): tf.Tensor3D {
    const { kernelSize: K, embeddingSize: E, channels: H } = this.config;
    const [B, L] = x.shape;
    const left = Math.floor((K - 1) / 2);
    const padded = tf.pad(x, [
      [0, 0],
      [left, K - 1 - left],
      [0, 0],
    ]);
    const windows = tf.concat(
      Array.from({ length: K }, (_, k) => tf.slice(padded, [0, k, 0], [B, L, E])),
      2,
    ); // (B, L, K·E)
    const w = tf.reshape(this.vars['conv.weight']!, [K * E, H]);
    return tf.reshape(tf.matMul(tf.reshape(windows, [B * L, K * E]), w), [B, L, H]);
  }

  /** Predicted class ids (eval mode). */
  predict(b: EncodedBatch): Int32Array {
    return tf.tidy(() => tf.argMax(this.forward(b, { training: false }).logits, -1).dataSync() as Int32Array);
  }

  dispose(): void {
    for (const v of Object.values(this.vars)) v.dispose();
  }
}
