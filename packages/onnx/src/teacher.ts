/**
 * `OnnxTeacher`: a frozen teacher backed by ONNX Runtime. Batches map to the graph's inputs by name
 * (with type conversion); named outputs come back as tfjs tensors in the `BertOutput` shape, so the
 * BERT adaptors (`bertAdaptor`) and every distiller use it like a tfjs teacher.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError, suggest } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';
import type { BertOutput } from '@distillery/models';
import { OnnxSession, type OnnxSessionOptions } from './session.js';

/** Batch fields a graph input can be fed from. */
export type BatchField = 'inputIds' | 'attentionMask' | 'tokenTypeIds';
const BATCH_FIELDS: readonly BatchField[] = ['inputIds', 'attentionMask', 'tokenTypeIds'];

/** Which graph outputs fill which `BertOutput` fields. */
export interface OnnxOutputMap {
  /** @default 'logits' */
  logits?: string;
  /** Hidden states in HF order (embeddings first). @default the graph's `hidden_states_<i>` outputs, by i */
  hiddenStates?: string[];
  /** Attention probabilities per layer. @default the graph's `attentions_<i>` outputs, by i */
  attentions?: string[];
}

/** Options of {@link OnnxTeacher.create}. */
export interface OnnxTeacherOptions extends OnnxSessionOptions {
  /**
   * Graph input name → batch field.
   * @default { input_ids: 'inputIds', attention_mask: 'attentionMask', token_type_ids: 'tokenTypeIds' } (those the graph has)
   */
  inputs?: Record<string, BatchField>;
  outputs?: OnnxOutputMap;
}

/** Forward options: hidden states and attentions can be skipped (the graph then does not fetch them). */
export interface OnnxForwardOptions {
  training: false;
  /** @default true */
  outputHiddenStates?: boolean;
  /** @default true */
  outputAttentions?: boolean;
}

const DEFAULT_INPUTS: Record<string, BatchField> = {
  input_ids: 'inputIds',
  attention_mask: 'attentionMask',
  token_type_ids: 'tokenTypeIds',
};

/** Outputs named `<prefix><i>`, sorted by i. */
function numbered(names: readonly string[], prefix: string): string[] {
  return names
    .filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)))
    .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)));
}

/** A teacher whose forward pass runs in ONNX Runtime (async; returns tensors the caller owns). */
export class OnnxTeacher {
  /** Graph input name → batch field, resolved against the graph. */
  readonly inputMap: Record<string, BatchField>;
  /** Resolved output names. */
  readonly outputMap: Required<OnnxOutputMap>;
  /** Number of forward calls so far (tests and the teacher cache count these). */
  calls = 0;

  private constructor(
    readonly session: OnnxSession,
    opts: OnnxTeacherOptions,
  ) {
    const where = session.path;
    const graphIn = session.inputNames;
    const given = opts.inputs ?? {};
    for (const [name, field] of Object.entries(given)) {
      if (!graphIn.includes(name))
        throw new DistilleryError('ONNX_INPUT_UNKNOWN', `inputs: "${name}" is not an input of the graph`, {
          where,
          hint: `${suggest(name, graphIn)}`,
        });
      if (!BATCH_FIELDS.includes(field))
        throw new DistilleryError('CONFIG_INVALID', `inputs.${name}: unknown batch field "${field}"`, {
          where,
          hint: suggest(field, BATCH_FIELDS),
        });
    }
    this.inputMap = {};
    for (const name of graphIn) {
      const field = given[name] ?? DEFAULT_INPUTS[name];
      if (!field) {
        throw new DistilleryError('ONNX_INPUT_MISSING', `graph input "${name}" is fed by no batch field`, {
          where,
          hint: `the graph's inputs are ${graphIn.join(', ')}; map it with inputs: { "${name}": "inputIds" | "attentionMask" | "tokenTypeIds" }`,
        });
      }
      this.inputMap[name] = field;
    }
    const outs = session.outputNames;
    const check = (n: string, key: string) => {
      if (!outs.includes(n))
        throw new DistilleryError('ONNX_OUTPUT_UNKNOWN', `outputs.${key}: the graph has no output "${n}"`, {
          where,
          hint: `the graph's outputs are ${outs.join(', ')}`,
        });
      return n;
    };
    const o = opts.outputs ?? {};
    this.outputMap = {
      logits: check(o.logits ?? 'logits', 'logits'),
      hiddenStates: (o.hiddenStates ?? numbered(outs, 'hidden_states_')).map((n, i) => check(n, `hiddenStates[${i}]`)),
      attentions: (o.attentions ?? numbered(outs, 'attentions_')).map((n, i) => check(n, `attentions[${i}]`)),
    };
  }

  /** Open `path` (a .onnx file) as a teacher. */
  static async create(path: string, opts: OnnxTeacherOptions = {}): Promise<OnnxTeacher> {
    const session = await OnnxSession.create(path, opts);
    try {
      return new OnnxTeacher(session, opts);
    } catch (e) {
      await session.dispose();
      throw e;
    }
  }

  /** Run the graph on a batch; logits, hidden states and attentions as new tf tensors (caller disposes). */
  async forward(batch: EncodedBatch, opts: OnnxForwardOptions = { training: false }): Promise<BertOutput> {
    if ((opts as { training: boolean }).training)
      throw new DistilleryError('USAGE', 'an ONNX teacher is frozen: forward needs training: false', {
        where: this.session.path,
      });
    this.calls++;
    const dims = [batch.batchSize, batch.seqLen];
    const feeds = Object.fromEntries(
      Object.entries(this.inputMap).map(([name, field]) => [name, { data: batch[field], dims }]),
    );
    const wantH = opts.outputHiddenStates ?? true;
    const wantA = opts.outputAttentions ?? true;
    const names = [
      this.outputMap.logits,
      ...(wantH ? this.outputMap.hiddenStates : []),
      ...(wantA ? this.outputMap.attentions : []),
    ];
    const res = await this.session.run(feeds, names);
    const toTf = (n: string) => {
      const r = res[n]!;
      if (r.type !== 'float32')
        throw new DistilleryError('DTYPE_MISMATCH', `output "${n}": expected float32, got ${r.type}`, {
          where: this.session.path,
        });
      return tf.tensor(r.data as Float32Array, r.dims, 'float32');
    };
    return {
      logits: toTf(this.outputMap.logits),
      hiddenStates: wantH ? this.outputMap.hiddenStates.map((n) => toTf(n) as tf.Tensor3D) : [],
      attentions: wantA ? this.outputMap.attentions.map((n) => toTf(n) as tf.Tensor4D) : [],
    };
  }

  /** An ONNX teacher has no trainable parameters. */
  parameters(): Record<string, tf.Variable> {
    return {};
  }

  /** Release the ORT session. */
  dispose(): void {
    void this.session.dispose();
  }
}
