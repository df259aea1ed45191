/**
 * BERT models in tfjs-core: the encoder (`BertModel`) and the heads (`BertForSequenceClassification`,
 * `BertForTokenClassification`), implementing core's `DistillModel<EncodedBatch, BertOutput>`.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, type DistillModel } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';
import { bertFamily, type BertConfig } from './bert.config.js';
import { ParamStore } from './params.js';
import { embeddings, encoderLayer, extendedMask } from './encoder.js';
import { linear, makeDropout, type DropoutFn } from './layers.js';
import { bertWeightShapes, initWeight, seedFor, type BertHead } from './weights.js';
import { readHfConfig, readHfWeights, type PretrainedOptions } from './hf.files.js';
import { robertaPositionIds, sequenceLoss } from './tasks.js';
import { tokenClassificationLoss } from './token-loss.js';
import type { EncoderModel } from '../hf/encoder.types.js';
import { bertConfigToHf } from './bert.config.js';

const ARCH_NAMES: Record<'bert' | 'roberta', Record<BertHead, string>> = {
  bert: {
    none: 'BertModel',
    sequence: 'BertForSequenceClassification',
    token: 'BertForTokenClassification',
    mlm: 'BertForMaskedLM',
  },
  roberta: {
    none: 'RobertaModel',
    sequence: 'RobertaForSequenceClassification',
    token: 'RobertaForTokenClassification',
    mlm: 'RobertaForMaskedLM',
  },
};

/** Which optional outputs to compute (defaults: hidden states and attentions on, scores off). */
export interface BertOutputFlags {
  /** `hiddenStates`: embeddings + every layer (default true). */
  outputHiddenStates?: boolean;
  /** `attentions`: softmax probabilities per layer (default true). */
  outputAttentions?: boolean;
  /** `attentionScores`: pre-softmax scores with the -10000 mask (default false). */
  outputAttentionScores?: boolean;
}

/** Construction options. */
export interface BertModelOptions extends BertOutputFlags {
  /** false: weights are plain tensors (a frozen teacher): no variables, no gradients. Default true. */
  trainable?: boolean;
  /** Seed of the random initialisation (default 42). */
  seed?: number;
  /**
   * Seed of the dropout masks. Each training forward pass n uses masks drawn from dropoutSeed + n·1000 + k
   * (k = dropout site), so seeded runs are reproducible. Default: unseeded.
   */
  dropoutSeed?: number;
}

/** Options of `forward`: `training` turns dropout on; output flags override the constructor's. */
export interface BertForwardOptions extends BertOutputFlags {
  training: boolean;
}

/**
 * What the BERT models return. Hidden states use HF numbering: `hiddenStates[0]` = embeddings output,
 * `hiddenStates[i]` = output of layer i. Empty arrays when the output was switched off.
 */
export interface BertOutput {
  /** [B, C] (sequence classification), [B, L, C] (token classification); the last hidden state for `BertModel`. */
  logits: tf.Tensor;
  /** numHiddenLayers + 1 tensors of [B, L, D]. */
  hiddenStates: tf.Tensor3D[];
  /** One [B, H, L, L] tensor of softmax probabilities (before dropout) per layer. */
  attentions: tf.Tensor4D[];
  /** One [B, H, L, L] tensor of pre-softmax scores (`q·kᵀ/√d + (1−mask)·(−10000)`) per layer, when asked. */
  attentionScores?: tf.Tensor4D[];
  /** tanh(dense(h[:, 0])) when the model has a pooler. */
  pooledOutput?: tf.Tensor2D;
  /** Mean cross-entropy when the batch has labels (token task: over labels >= 0). */
  loss?: tf.Scalar;
}

/** Shared implementation of the BERT models; `head` selects the output layer. */
export abstract class BertBase implements DistillModel<EncodedBatch, BertOutput>, EncoderModel {
  readonly store: ParamStore;
  readonly options: Required<Omit<BertModelOptions, 'dropoutSeed'>> & { dropoutSeed?: number };
  /** Training passes so far (advances the dropout seed). */
  private trainingPasses = 0;
  /** Name prefix and position scheme: `bert`, or `roberta` (RoBERTa, XLM-R, CamemBERT). */
  readonly family: 'bert' | 'roberta';

  /**
   * @param weights optional initial weights by HF name (taken over: the model disposes them);
   *   any weight not given is randomly initialised (seeded).
   */
  constructor(
    readonly config: BertConfig,
    readonly head: BertHead,
    opts: BertModelOptions = {},
    weights: Readonly<Record<string, tf.Tensor>> = {},
  ) {
    this.family = bertFamily(config);
    this.options = {
      trainable: true,
      seed: 42,
      outputHiddenStates: true,
      outputAttentions: true,
      outputAttentionScores: false,
      ...opts,
    };
    this.store = new ParamStore(this.options.trainable);
    const shapes = bertWeightShapes(config, head);
    const known = new Set(shapes.map(([n]) => n));
    const unknown = Object.keys(weights).filter((n) => !known.has(n));
    try {
      if (unknown.length) {
        throw new DistilleryError(
          'UNEXPECTED_WEIGHTS',
          `weights not part of this model: ${unknown.slice(0, 5).join(', ')}`,
          { where: 'constructor(weights)' },
        );
      }
      for (const [name, shape] of shapes) {
        const given = weights[name];
        if (given && !tf.util.arraysEqual(given.shape, shape)) {
          throw new DistilleryError(
            'SHAPE_MISMATCH',
            `weight "${name}" has shape [${given.shape.join(',')}], the config needs [${shape.join(',')}]`,
            { where: name },
          );
        }
        this.store.set(name, given ?? initWeight(config, name, shape, seedFor(this.options.seed, name)));
      }
    } catch (err) {
      // The model owns the given weights: free them (and what was stored) when construction fails.
      for (const t of Object.values(weights)) if (!t.isDisposed) t.dispose();
      this.store.dispose();
      throw err;
    }
  }

  /** HF weight names and shapes this model has. */
  weightShapes(): [string, number[]][] {
    return bertWeightShapes(this.config, this.head);
  }

  /** Trainable variables by HF name (empty for `trainable: false`). */
  parameters(): Readonly<Record<string, tf.Variable>> {
    return this.store.variables();
  }

  /** All weights by HF name (variables or frozen tensors), e.g. for saving. */
  weights(): Readonly<Record<string, tf.Tensor>> {
    return this.store.all();
  }

  /** The `config.json` object a save writes (`architectures` from the family and head). */
  hfConfig(): Record<string, unknown> {
    return {
      ...bertConfigToHf(this.config),
      architectures: [ARCH_NAMES[this.family][this.head]],
      torch_dtype: 'float32',
    };
  }

  dispose(): void {
    this.store.dispose();
  }

  /** Check a batch against the config before making tensors (clear errors instead of NaNs or kernel crashes). */
  protected checkBatch(b: EncodedBatch): void {
    const n = b.batchSize * b.seqLen;
    const where = 'forward(batch)';
    if (b.inputIds.length !== n || b.attentionMask.length !== n || b.tokenTypeIds.length !== n) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `batch arrays must have batchSize*seqLen = ${n} entries (inputIds ${b.inputIds.length}, attentionMask ${b.attentionMask.length}, tokenTypeIds ${b.tokenTypeIds.length})`,
        { where },
      );
    }
    // RoBERTa positions start after the padding index (514 positions hold 512 tokens).
    const maxLen = this.config.maxPositionEmbeddings - (this.family === 'roberta' ? this.config.padTokenId + 1 : 0);
    if (b.seqLen > maxLen) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `sequence length ${b.seqLen} exceeds the ${maxLen} positions of max_position_embeddings ${this.config.maxPositionEmbeddings}`,
        { where, hint: `tokenize with maxLength <= ${maxLen}` },
      );
    }
    for (let i = 0; i < n; i++) {
      const id = b.inputIds[i]!;
      if (id < 0 || id >= this.config.vocabSize) {
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `token id ${id} at row ${Math.floor(i / b.seqLen)} is outside the vocabulary (size ${this.config.vocabSize})`,
          { where, hint: 'the tokenizer does not match the model' },
        );
      }
      const t = b.tokenTypeIds[i]!;
      if (t < 0 || t >= this.config.typeVocabSize)
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `token type id ${t} is outside 0..${this.config.typeVocabSize - 1}`,
          { where },
        );
    }
  }

  /** Encoder pass: embeddings, layers, optional pooler. Call inside `tf.tidy` (or a distiller step). */
  protected encode(
    batch: EncodedBatch,
    opts: BertForwardOptions,
    drop: DropoutFn,
  ): { seq: tf.Tensor3D; pooled?: tf.Tensor2D; out: BertOutput } {
    this.checkBatch(batch);
    const flags = { ...this.options, ...opts };
    const c = this.config;
    const { batchSize: b, seqLen: l } = batch;
    const ids = tf.tensor2d(batch.inputIds, [b, l], 'int32');
    const types = tf.tensor2d(batch.tokenTypeIds, [b, l], 'int32');
    const maskAdd = extendedMask(tf.tensor2d(batch.attentionMask, [b, l], 'int32'));
    const fam = this.family;
    const positions =
      fam === 'roberta'
        ? tf.tensor2d(robertaPositionIds(batch.inputIds, b, l, c.padTokenId), [b, l], 'int32')
        : undefined;
    let x = embeddings(this.store, c, ids, types, drop, fam, positions);
    const hiddenStates: tf.Tensor3D[] = flags.outputHiddenStates ? [x] : [];
    const attentions: tf.Tensor4D[] = [];
    const scores: tf.Tensor4D[] = [];
    const want = { probs: flags.outputAttentions, scores: flags.outputAttentionScores };
    for (let i = 0; i < c.numHiddenLayers; i++) {
      const prev = x;
      // A tidy per layer frees the layer's intermediates at once (the gradient tape keeps what it needs).
      const r = tf.tidy(() => {
        const { out, extras } = encoderLayer(this.store, c, i, prev, maskAdd, drop, want, fam);
        return [out, extras.probs, extras.scores] as const;
      });
      x = r[0];
      if (r[1]) attentions.push(r[1]);
      if (r[2]) scores.push(r[2]);
      if (flags.outputHiddenStates) hiddenStates.push(x);
    }
    const poolerName = `${fam}.pooler.dense`;
    const pooled = this.store.has(`${poolerName}.weight`)
      ? (tf.tanh(linear(this.store, poolerName, firstToken(x))) as tf.Tensor2D)
      : undefined;
    const out: BertOutput = { logits: x, hiddenStates, attentions };
    if (flags.outputAttentionScores) out.attentionScores = scores;
    if (pooled) out.pooledOutput = pooled;
    return { seq: x, pooled, out };
  }

  /** The dropout of one forward pass (identity in eval mode; seeded when `dropoutSeed` is set). */
  protected dropoutFor(opts: BertForwardOptions): DropoutFn {
    if (!opts.training) return makeDropout(false);
    return makeDropout(true, this.options.dropoutSeed, this.trainingPasses++);
  }

  /**
   * Training forward passes so far: the counter of the dropout masks (with `dropoutSeed`, pass n always draws
   * the same masks). A trainer that resumes from a checkpoint restores it so the masks continue where they were.
   */
  get dropoutPass(): number {
    return this.trainingPasses;
  }

  set dropoutPass(n: number) {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new DistilleryError('INVALID_INPUT', `dropoutPass must be a non-negative integer, got ${n}`, {
        where: 'dropoutPass',
      });
    this.trainingPasses = n;
  }

  /** Dropout before the classifier (`classifier_dropout`, or `hidden_dropout_prob` when null). */
  protected classifierDropout(x: tf.Tensor, drop: DropoutFn): tf.Tensor {
    return drop(x, this.config.classifierDropout ?? this.config.hiddenDropoutProb);
  }

  abstract forward(batch: EncodedBatch, opts: BertForwardOptions): BertOutput;
}

/** `x[:, 0]`: the first ([CLS] / <s>) vector of each row, [B, D]. */
export function firstToken(x: tf.Tensor3D): tf.Tensor2D {
  const [b, , d] = x.shape;
  return tf.reshape(tf.slice(x, [0, 0, 0], [b, 1, d]), [b, d]);
}

/** The bare encoder (with pooler); `logits` is the last hidden state [B, L, D]. */
export class BertModel extends BertBase {
  constructor(config: BertConfig, opts: BertModelOptions = {}, weights: Readonly<Record<string, tf.Tensor>> = {}) {
    super(config, 'none', opts, weights);
  }

  /** Load a Hugging Face folder (config.json + model.safetensors). */
  static async fromPretrained(dir: string, opts: BertModelOptions & PretrainedOptions = {}): Promise<BertModel> {
    const config = readHfConfig(dir);
    return new BertModel(config, opts, await readHfWeights(dir, config, 'none', opts));
  }

  forward(batch: EncodedBatch, opts: BertForwardOptions): BertOutput {
    return this.encode(batch, opts, this.dropoutFor(opts)).out;
  }
}

/** BERT with a sequence classifier on the pooled `[CLS]` vector: logits [B, numLabels]. */
export class BertForSequenceClassification extends BertBase {
  constructor(config: BertConfig, opts: BertModelOptions = {}, weights: Readonly<Record<string, tf.Tensor>> = {}) {
    super(config, 'sequence', opts, weights);
  }

  /** Load a Hugging Face folder (config.json + model.safetensors). */
  static async fromPretrained(
    dir: string,
    opts: BertModelOptions & PretrainedOptions = {},
  ): Promise<BertForSequenceClassification> {
    const config = readHfConfig(dir);
    return new BertForSequenceClassification(config, opts, await readHfWeights(dir, config, 'sequence', opts));
  }

  forward(batch: EncodedBatch, opts: BertForwardOptions): BertOutput {
    const drop = this.dropoutFor(opts);
    const { seq, pooled, out } = this.encode(batch, opts, drop);
    let logits: tf.Tensor;
    if (this.family === 'roberta') {
      // RobertaClassificationHead: dropout → dense → tanh → dropout → out_proj on the <s> vector.
      const h = tf.tanh(linear(this.store, 'classifier.dense', this.classifierDropout(firstToken(seq), drop)));
      logits = linear(this.store, 'classifier.out_proj', this.classifierDropout(h, drop));
    } else {
      logits = linear(this.store, 'classifier', this.classifierDropout(pooled!, drop));
    }
    out.logits = logits;
    const loss = sequenceLoss(this.config, batch, logits);
    if (loss) out.loss = loss;
    return out;
  }
}

/** BERT with a per-token classifier: logits [B, L, numLabels]; labels [B·L] with negative = ignore. */
export class BertForTokenClassification extends BertBase {
  constructor(config: BertConfig, opts: BertModelOptions = {}, weights: Readonly<Record<string, tf.Tensor>> = {}) {
    super(config, 'token', opts, weights);
  }

  /** Load a Hugging Face folder (config.json + model.safetensors). */
  static async fromPretrained(
    dir: string,
    opts: BertModelOptions & PretrainedOptions = {},
  ): Promise<BertForTokenClassification> {
    const config = readHfConfig(dir);
    return new BertForTokenClassification(config, opts, await readHfWeights(dir, config, 'token', opts));
  }

  forward(batch: EncodedBatch, opts: BertForwardOptions): BertOutput {
    const drop = this.dropoutFor(opts);
    const { seq, out } = this.encode(batch, opts, drop);
    const logits = linear(this.store, 'classifier', this.classifierDropout(seq, drop));
    out.logits = logits;
    if (batch.labels) {
      out.loss = tokenClassificationLoss(batch, logits, this.config.numLabels);
    }
    return out;
  }
}
