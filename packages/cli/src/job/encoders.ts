/**
 * Building the encoder models of a job (BERT, RoBERTa, DistilBERT; sequence or token heads) from the
 * `teacher.model` / `student.model` config: pretrained folders through `loadHfModel`, smaller students from
 * the teacher's config, and initialisation from the teacher's layers.
 */
import type { DistillModel } from '@distillery/core';
import type { EncodedBatch } from '@distillery/data';
import {
  BertForSequenceClassification,
  BertForTokenClassification,
  BertForMaskedLM,
  BertBase,
  distilBertConfigFromBert,
  initDistilBertFromBert,
  initStudentFromTeacher,
  loadHfModel,
  makeDistilBert,
  makeStudentConfig,
  type BertConfig,
  type BertHead,
  type EncoderModel,
} from '@distillery/models';
import type { ModelConfig } from './schema.js';

/** Builds teacher then student; remembers the teacher for `initFromTeacher`. */
export class EncoderBuilder {
  teacher?: EncoderModel;

  /** @param base the config smaller models start from (the pretrained teacher's, or one made for the data) */
  constructor(
    private readonly head: BertHead,
    private readonly base: () => BertConfig,
  ) {}

  async build(m: ModelConfig, seed: number, role: 'teacher' | 'student'): Promise<DistillModel<EncodedBatch>> {
    const model = await this.make(m, seed, role);
    if (role === 'teacher') this.teacher = model;
    return model;
  }

  private async make(m: ModelConfig, seed: number, role: 'teacher' | 'student'): Promise<EncoderModel> {
    if (m.type === 'mlp') throw new Error(`a text-encoder job needs bert or distilbert models; ${role} is "mlp"`);
    if (m.type === 'onnx')
      throw new Error(`an ONNX ${role} is run by ONNX Runtime, not built here (only a teacher can be ONNX)`);
    if (m.pretrained) return loadHfModel(m.pretrained, { trainable: role === 'student', head: this.head });
    const t = this.teacher;
    if (m.type === 'distilbert') {
      const base = t instanceof BertBase ? t.config : this.base();
      const model = makeDistilBert(
        distilBertConfigFromBert(base, m.numHiddenLayers ? { numHiddenLayers: m.numHiddenLayers } : {}),
        this.head,
        { seed },
      );
      if (m.initFromTeacher) {
        if (!(t instanceof BertBase)) throw new Error('distilbert initFromTeacher needs a BERT teacher');
        initDistilBertFromBert(t, model);
      }
      return model;
    }
    const cfg = makeStudentConfig(this.base(), {
      ...(m.numHiddenLayers ? { numHiddenLayers: m.numHiddenLayers } : {}),
      ...(m.hiddenSize ? { hiddenSize: m.hiddenSize } : {}),
      ...(m.numAttentionHeads ? { numAttentionHeads: m.numAttentionHeads } : {}),
      ...(m.intermediateSize ? { intermediateSize: m.intermediateSize } : {}),
    });
    const model =
      this.head === 'token'
        ? new BertForTokenClassification(cfg, { seed })
        : this.head === 'mlm'
          ? new BertForMaskedLM(cfg, { seed })
          : new BertForSequenceClassification(cfg, { seed });
    if (m.initFromTeacher && t instanceof BertBase) initStudentFromTeacher(t, model);
    return model;
  }
}
