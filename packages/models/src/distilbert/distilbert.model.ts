/**
 * DistilBERT models in tfjs-core (`DistilBertModel`, `DistilBertForSequenceClassification`,
 * `DistilBertForTokenClassification`) with the same outputs as the BERT models, so `bertAdaptor` /
 * `bertTokenAdaptor`, `predictTexts` and `saveHfModel` work unchanged.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';
import { ParamStore } from '../bert/params.js';
import { linear, makeDropout, type DropoutFn } from '../bert/layers.js';
import { firstToken, type BertForwardOptions, type BertModelOptions, type BertOutput } from '../bert/bert.model.js';
import { seedFor, type BertHead } from '../bert/weights.js';
import { sequenceLoss } from '../bert/tasks.js';
import { tokenClassificationLoss } from '../bert/token-loss.js';
import type { EncoderModel } from '../hf/encoder.types.js';
import { distilBertConfigToHf, type DistilBertConfig } from './distilbert.config.js';
import { distilBertWeightShapes, initDistilBertWeight } from './distilbert.weights.js';
import { distilBlock, distilEmbeddings } from './distilbert.layers.js';
import { MLM_HEAD_NAMES, maskedLabels, maskedRows, mlmLogits, mlmLoss } from '../bert/mlm.head.js';

const ARCH: Record<BertHead, string> = {
  none: 'DistilBertModel',
  sequence: 'DistilBertForSequenceClassification',
  token: 'DistilBertForTokenClassification',
  mlm: 'DistilBertForMaskedLM',
};
const POSITIONS = 'distilbert.embeddings.position_embeddings.weight';

/** Shared implementation; `head` selects the output layer. */
export abstract class DistilBertBase implements EncoderModel {
  readonly family = 'distilbert' as const;
  readonly store: ParamStore;
  readonly options: Required<Omit<BertModelOptions, 'dropoutSeed'>> & { dropoutSeed?: number };
  private trainingPasses = 0;

  /** @param weights initial weights by HF name (taken over); the rest is initialised (seeded). */
  constructor(
    readonly config: DistilBertConfig,
    readonly head: BertHead,
    opts: BertModelOptions = {},
    weights: Readonly<Record<string, tf.Tensor>> = {},
  ) {
    this.options = {
      trainable: true,
      seed: 42,
      outputHiddenStates: true,
      outputAttentions: true,
      outputAttentionScores: false,
      ...opts,
    };
    this.store = new ParamStore(this.options.trainable);
    const shapes = this.weightShapes();
    const known = new Set(shapes.map(([n]) => n));
    try {
      const unknown = Object.keys(weights).filter((n) => !known.has(n));
      if (unknown.length)
        throw new DistilleryError(
          'UNEXPECTED_WEIGHTS',
          `weights not part of this model: ${unknown.slice(0, 5).join(', ')}`,
          { where: 'constructor(weights)' },
        );
      for (const [name, shape] of shapes) {
        const given = weights[name];
        if (given && !tf.util.arraysEqual(given.shape, shape))
          throw new DistilleryError(
            'SHAPE_MISMATCH',
            `weight "${name}" has shape [${given.shape.join(',')}], the config needs [${shape.join(',')}]`,
            { where: name },
          );
        this.store.set(name, given ?? initDistilBertWeight(config, name, shape, seedFor(this.options.seed, name)));
      }
    } catch (err) {
      for (const t of Object.values(weights)) if (!t.isDisposed) t.dispose();
      this.store.dispose();
      throw err;
    }
  }

  weightShapes(): [string, number[]][] {
    return distilBertWeightShapes(this.config, this.head);
  }

  /** Trainable variables by HF name; fixed sinusoidal position embeddings are not trained (as transformers). */
  parameters(): Readonly<Record<string, tf.Variable>> {
    const vars = this.store.variables();
    if (!this.config.sinusoidalPosEmbds) return vars;
    const { [POSITIONS]: _fixed, ...rest } = vars;
    return rest;
  }

  weights(): Readonly<Record<string, tf.Tensor>> {
    return this.store.all();
  }

  hfConfig(): Record<string, unknown> {
    return { ...distilBertConfigToHf(this.config), architectures: [ARCH[this.head]], torch_dtype: 'float32' };
  }

  dispose(): void {
    this.store.dispose();
  }

  /** Clear errors for malformed batches instead of NaNs or kernel crashes. */
  protected checkBatch(b: EncodedBatch): void {
    const n = b.batchSize * b.seqLen;
    const where = 'forward(batch)';
    if (b.inputIds.length !== n || b.attentionMask.length !== n)
      throw new DistilleryError('SHAPE_MISMATCH', `batch arrays must have batchSize*seqLen = ${n} entries`, { where });
    if (b.seqLen > this.config.maxPositionEmbeddings)
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `sequence length ${b.seqLen} exceeds max_position_embeddings ${this.config.maxPositionEmbeddings}`,
        { where, hint: `tokenize with maxLength <= ${this.config.maxPositionEmbeddings}` },
      );
    for (let i = 0; i < n; i++) {
      const id = b.inputIds[i]!;
      if (id < 0 || id >= this.config.vocabSize)
        throw new DistilleryError(
          'SHAPE_MISMATCH',
          `token id ${id} at row ${Math.floor(i / b.seqLen)} is outside the vocabulary (size ${this.config.vocabSize})`,
          { where, hint: 'the tokenizer does not match the model' },
        );
    }
    // DistilBERT has no token types: a pair batch still works (segment ids are ignored, as in transformers).
  }

  protected dropoutFor(opts: BertForwardOptions): DropoutFn {
    if (!opts.training) return makeDropout(false);
    const s = this.options.dropoutSeed;
    return makeDropout(true, s === undefined ? undefined : s + 1000 * this.trainingPasses++);
  }

  /** Embeddings and blocks: the last hidden state plus the optional per-layer outputs. */
  protected encode(
    batch: EncodedBatch,
    opts: BertForwardOptions,
    drop: DropoutFn,
  ): { seq: tf.Tensor3D; out: BertOutput } {
    this.checkBatch(batch);
    const flags = { ...this.options, ...opts };
    const { batchSize: b, seqLen: l } = batch;
    const keyMask = tf.reshape<tf.Rank.R4>(tf.cast(tf.tensor2d(batch.attentionMask, [b, l], 'int32'), 'bool'), [
      b,
      1,
      1,
      l,
    ]);
    let x = distilEmbeddings(this.store, this.config, tf.tensor2d(batch.inputIds, [b, l], 'int32'), drop);
    const hiddenStates: tf.Tensor3D[] = flags.outputHiddenStates ? [x] : [];
    const attentions: tf.Tensor4D[] = [];
    const scores: tf.Tensor4D[] = [];
    const want = { probs: flags.outputAttentions, scores: flags.outputAttentionScores };
    for (let i = 0; i < this.config.numHiddenLayers; i++) {
      const prev = x;
      const r = tf.tidy(() => {
        const { out, extras } = distilBlock(this.store, this.config, i, prev, keyMask, drop, want);
        return [out, extras.probs, extras.scores] as const;
      });
      x = r[0];
      if (r[1]) attentions.push(r[1]);
      if (r[2]) scores.push(r[2]);
      if (flags.outputHiddenStates) hiddenStates.push(x);
    }
    const out: BertOutput = { logits: x, hiddenStates, attentions };
    if (flags.outputAttentionScores) out.attentionScores = scores;
    return { seq: x, out };
  }

  abstract forward(batch: EncodedBatch, opts: BertForwardOptions): BertOutput;
}

/** The bare DistilBERT encoder; `logits` is the last hidden state [B, L, D]. */
export class DistilBertModel extends DistilBertBase {
  constructor(
    config: DistilBertConfig,
    opts: BertModelOptions = {},
    weights: Readonly<Record<string, tf.Tensor>> = {},
  ) {
    super(config, 'none', opts, weights);
  }

  forward(batch: EncodedBatch, opts: BertForwardOptions): BertOutput {
    return this.encode(batch, opts, this.dropoutFor(opts)).out;
  }
}

/**
 * Sequence classifier: `h[:, 0]` → `pre_classifier` → ReLU → dropout(`seq_classif_dropout`) → `classifier`.
 * Cross-entropy with `labels`, MSE for regression heads.
 */
export class DistilBertForSequenceClassification extends DistilBertBase {
  constructor(
    config: DistilBertConfig,
    opts: BertModelOptions = {},
    weights: Readonly<Record<string, tf.Tensor>> = {},
  ) {
    super(config, 'sequence', opts, weights);
  }

  forward(batch: EncodedBatch, opts: BertForwardOptions): BertOutput {
    const drop = this.dropoutFor(opts);
    const { seq, out } = this.encode(batch, opts, drop);
    const pooled = tf.relu(linear(this.store, 'pre_classifier', firstToken(seq)));
    const logits = linear(this.store, 'classifier', drop(pooled, this.config.seqClassifDropout));
    out.logits = logits;
    const loss = sequenceLoss(this.config, batch, logits);
    if (loss) out.loss = loss;
    return out;
  }
}

/** Token classifier: dropout(`dropout`) → `classifier` on every position; labels < 0 are ignored. */
export class DistilBertForTokenClassification extends DistilBertBase {
  constructor(
    config: DistilBertConfig,
    opts: BertModelOptions = {},
    weights: Readonly<Record<string, tf.Tensor>> = {},
  ) {
    super(config, 'token', opts, weights);
  }

  forward(batch: EncodedBatch, opts: BertForwardOptions): BertOutput {
    const drop = this.dropoutFor(opts);
    const { seq, out } = this.encode(batch, opts, drop);
    out.logits = linear(this.store, 'classifier', drop(seq, this.config.dropout));
    if (batch.labels) out.loss = tokenClassificationLoss(batch, out.logits, this.config.numLabels);
    return out;
  }
}

/**
 * DistilBERT's masked-LM head: `vocab_transform` → activation → `vocab_layer_norm` → `vocab_projector` (weight tied to
 * the word embeddings). Labels ([B·L], −100 where not masked) give the MLM loss and, unless `maskedOnly: false`,
 * logits `[M, V]` at the masked positions only.
 */
export class DistilBertForMaskedLM extends DistilBertBase {
  constructor(
    config: DistilBertConfig,
    opts: BertModelOptions = {},
    weights: Readonly<Record<string, tf.Tensor>> = {},
  ) {
    super(config, 'mlm', opts, weights);
  }

  forward(batch: EncodedBatch, opts: BertForwardOptions & { maskedOnly?: boolean }): BertOutput {
    const { seq, out } = this.encode(batch, opts, this.dropoutFor(opts));
    const rows = maskedRows(batch);
    const only = rows && opts.maskedOnly !== false ? rows : undefined;
    out.logits = mlmLogits(
      this.store,
      MLM_HEAD_NAMES.distilbert,
      this.config.hiddenAct,
      this.config.layerNormEps,
      seq,
      only,
    );
    if (rows) {
      const picked = only
        ? out.logits
        : tf.gather(tf.reshape(out.logits, [-1, this.config.vocabSize]), tf.tensor1d(rows, 'int32'));
      out.loss = mlmLoss(picked, maskedLabels(batch, rows));
    }
    return out;
  }
}
