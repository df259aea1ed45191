/**
 * A minimal BERT-style encoder written directly in tfjs ops (embeddings, post-LN attention blocks with GELU
 * feed-forward, a classifier on the first token). Used by the training-step test and by the benchmark.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Encoder dimensions. */
export interface EncoderConfig {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  ffn: number;
  seq: number;
  labels: number;
}

/** The BERT-step shape from the issue: 4 layers, hidden 256, 4 heads, FFN 1024, seq 64. */
export const BERT_STEP: EncoderConfig = {
  vocab: 8000,
  hidden: 256,
  layers: 4,
  heads: 4,
  ffn: 1024,
  seq: 64,
  labels: 8,
};

/** Parameters by name, deterministic (seeded LCG), so every backend starts from identical values. */
export function initEncoder(cfg: EncoderConfig, seed = 7): Map<string, tf.Variable> {
  let s = seed;
  const rnd = (shape: number[], scale: number): tf.Variable => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      v[i] = ((s / 4294967296) * 2 - 1) * scale;
    }
    return tf.variable(tf.tensor(v, shape));
  };
  const p = new Map<string, tf.Variable>();
  const h = cfg.hidden;
  p.set('tok', rnd([cfg.vocab, h], 0.05));
  p.set('pos', rnd([cfg.seq, h], 0.05));
  for (let l = 0; l < cfg.layers; l++) {
    for (const w of ['q', 'k', 'v', 'o']) {
      p.set(`${l}.${w}.w`, rnd([h, h], 0.06));
      p.set(`${l}.${w}.b`, rnd([h], 0.02));
    }
    p.set(`${l}.f1.w`, rnd([h, cfg.ffn], 0.06));
    p.set(`${l}.f1.b`, rnd([cfg.ffn], 0.02));
    p.set(`${l}.f2.w`, rnd([cfg.ffn, h], 0.03));
    p.set(`${l}.f2.b`, rnd([h], 0.02));
    for (const ln of ['ln1', 'ln2']) {
      p.set(`${l}.${ln}.g`, tf.variable(tf.ones([h])));
      p.set(`${l}.${ln}.b`, tf.variable(tf.zeros([h])));
    }
  }
  p.set('cls.w', rnd([h, cfg.labels], 0.06));
  p.set('cls.b', rnd([cfg.labels], 0.02));
  return p;
}

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, 1e-12))), g), b);
}

function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

function dense(x: tf.Tensor, p: Map<string, tf.Variable>, name: string): tf.Tensor {
  const w = p.get(`${name}.w`)!;
  const [rows, cols] = [x.size / x.shape[x.shape.length - 1]!, w.shape[1]!];
  const y = tf.add(tf.matMul(tf.reshape(x, [rows, x.shape[x.shape.length - 1]!]), w), p.get(`${name}.b`)!);
  return tf.reshape(y, [...x.shape.slice(0, -1), cols]);
}

/** Mean cross-entropy of the encoder's first-token classifier on `ids` [batch, seq] and `labels` [batch]. */
export function encoderLoss(
  cfg: EncoderConfig,
  p: Map<string, tf.Variable>,
  ids: tf.Tensor,
  labels: tf.Tensor,
): tf.Scalar {
  const [batch, seq] = ids.shape as [number, number];
  const h = cfg.hidden,
    dh = h / cfg.heads;
  const tok = tf.reshape(tf.gather(p.get('tok')!, tf.reshape(ids, [-1])), [batch, seq, h]);
  let x = tf.add(tok, tf.slice(p.get('pos')!, [0, 0], [seq, h]));
  const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [batch, seq, cfg.heads, dh]), [0, 2, 1, 3]);
  for (let l = 0; l < cfg.layers; l++) {
    const q = heads(dense(x, p, `${l}.q`)),
      k = heads(dense(x, p, `${l}.k`)),
      v = heads(dense(x, p, `${l}.v`));
    const att = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)));
    const ctx = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [batch, seq, h]);
    x = layerNorm(tf.add(x, dense(ctx, p, `${l}.o`)), p.get(`${l}.ln1.g`)!, p.get(`${l}.ln1.b`)!);
    const f = dense(gelu(dense(x, p, `${l}.f1`)), p, `${l}.f2`);
    x = layerNorm(tf.add(x, f), p.get(`${l}.ln2.g`)!, p.get(`${l}.ln2.b`)!);
  }
  const first = tf.reshape(tf.slice(x, [0, 0, 0], [batch, 1, h]), [batch, h]);
  const logits = dense(first, p, 'cls');
  const logp = tf.logSoftmax(logits);
  const onehot = tf.oneHot(tf.cast(labels, 'int32'), cfg.labels);
  return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), -1))) as tf.Scalar;
}

/** Deterministic token ids and labels for a batch. */
export function encoderBatch(cfg: EncoderConfig, batch: number, seed = 3): { ids: tf.Tensor; labels: tf.Tensor } {
  const ids = new Int32Array(batch * cfg.seq);
  let s = seed;
  for (let i = 0; i < ids.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    ids[i] = s % cfg.vocab;
  }
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7 + seed) % cfg.labels);
  return { ids: tf.tensor2d(ids, [batch, cfg.seq], 'int32'), labels: tf.tensor1d(labels, 'int32') };
}

/** One forward + backward pass: the loss and the gradient of every parameter (in the map's order). */
export function encoderStep(
  cfg: EncoderConfig,
  p: Map<string, tf.Variable>,
  ids: tf.Tensor,
  labels: tf.Tensor,
): {
  loss: tf.Scalar;
  grads: tf.Tensor[];
} {
  const { value, grads } = tf.variableGrads(() => encoderLoss(cfg, p, ids, labels), [...p.values()]);
  return { loss: value, grads: [...p.values()].map((v) => grads[v.name]!) };
}
