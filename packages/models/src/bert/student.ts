/**
 * Building students: a smaller config from the teacher's, and DistilBERT-style initialisation
 * from the teacher's weights (embeddings and a subset of layers) when widths match.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { DistilleryError } from '@distillery/core';
import { bertConfig, type BertConfig } from './bert.config.js';
import type { BertBase } from './bert.model.js';

/** Sizes of a student; anything left out is the teacher's. */
export interface StudentSizes {
  numHiddenLayers?: number;
  hiddenSize?: number;
  numAttentionHeads?: number;
  intermediateSize?: number;
}

/** A student config: the teacher's vocabulary, positions, labels and activation with new sizes (validated). */
export function makeStudentConfig(teacher: BertConfig, sizes: StudentSizes): BertConfig {
  const hiddenSize = sizes.hiddenSize ?? teacher.hiddenSize;
  return bertConfig({
    ...teacher,
    numHiddenLayers: sizes.numHiddenLayers ?? teacher.numHiddenLayers,
    hiddenSize,
    numAttentionHeads: sizes.numAttentionHeads ?? teacher.numAttentionHeads,
    // Keep the teacher's FFN ratio when only the width changes.
    intermediateSize:
      sizes.intermediateSize ?? Math.round((teacher.intermediateSize * hiddenSize) / teacher.hiddenSize),
  });
}

/** Options of {@link initStudentFromTeacher}. */
export interface InitFromTeacherOptions {
  /**
   * Which teacher layer initialises each student layer. `every-other` (default): student layer i ←
   * teacher layer 2i (DistilBERT); or an explicit list, one teacher layer index per student layer.
   */
  layerMap?: 'every-other' | readonly number[];
  /** Also copy the pooler and classifier when their shapes match (default true). */
  copyHead?: boolean;
}

/** What was copied. */
export interface InitReport {
  /** Student layer i ← teacher layer layerMap[i]. */
  layerMap: number[];
  copied: string[];
  /** Weights left at their random initialisation. */
  kept: string[];
}

/**
 * Copy embeddings and mapped layers (and the head, if shapes match) from teacher to student.
 * Requires equal hidden size, heads and intermediate size; otherwise a clear error (use random init
 * and let distillation with projections do the work).
 */
export function initStudentFromTeacher(
  teacher: BertBase,
  student: BertBase,
  opts: InitFromTeacherOptions = {},
): InitReport {
  const t = teacher.config;
  const s = student.config;
  if (teacher.family !== student.family) {
    throw new DistilleryError(
      'CONFIG_INVALID',
      `cannot copy a ${teacher.family} teacher into a ${student.family} student`,
      {
        where: 'initStudentFromTeacher',
        hint:
          student.family === 'bert'
            ? undefined
            : 'for a DistilBERT student of a BERT teacher use initDistilBertFromBert()',
      },
    );
  }
  for (const [field, label] of [
    ['hiddenSize', 'hidden_size'],
    ['numAttentionHeads', 'num_attention_heads'],
    ['intermediateSize', 'intermediate_size'],
    ['vocabSize', 'vocab_size'],
    ['typeVocabSize', 'type_vocab_size'],
  ] as const) {
    if (t[field] !== s[field]) {
      throw new DistilleryError(
        'SHAPE_MISMATCH',
        `cannot copy teacher weights: ${label} is ${t[field]} in the teacher but ${s[field]} in the student`,
        {
          where: 'initStudentFromTeacher',
          hint: 'copying layers needs equal widths; keep the random initialisation and distil with projected hidden-state matches instead',
        },
      );
    }
  }
  if (s.maxPositionEmbeddings > t.maxPositionEmbeddings) {
    throw new DistilleryError(
      'SHAPE_MISMATCH',
      `student max_position_embeddings ${s.maxPositionEmbeddings} exceeds the teacher's ${t.maxPositionEmbeddings}`,
      { where: 'initStudentFromTeacher' },
    );
  }
  const map =
    opts.layerMap === undefined || opts.layerMap === 'every-other'
      ? Array.from({ length: s.numHiddenLayers }, (_, i) => 2 * i)
      : [...opts.layerMap];
  if (map.length !== s.numHiddenLayers) {
    throw new DistilleryError(
      'CONFIG_INVALID',
      `layerMap has ${map.length} entries for ${s.numHiddenLayers} student layers`,
      { where: 'initStudentFromTeacher.layerMap' },
    );
  }
  const bad = map.find((l) => !Number.isInteger(l) || l < 0 || l >= t.numHiddenLayers);
  if (bad !== undefined) {
    throw new DistilleryError(
      'CONFIG_INVALID',
      `teacher layer ${bad} does not exist (teacher has ${t.numHiddenLayers} layers)`,
      {
        where: 'initStudentFromTeacher.layerMap',
        hint:
          opts.layerMap === undefined || opts.layerMap === 'every-other'
            ? `every-other needs a teacher with at least ${2 * s.numHiddenLayers - 1} layers; pass an explicit layerMap`
            : undefined,
      },
    );
  }
  const tw = teacher.weights();
  const copied: string[] = [];
  const kept: string[] = [];
  for (const [name, shape] of student.weightShapes()) {
    const m = /^(bert|roberta)\.encoder\.layer\.(\d+)\.(.*)$/.exec(name);
    const src = m ? `${m[1]}.encoder.layer.${map[Number(m[2])]}.${m[3]}` : name;
    const isHead = name.startsWith('classifier.') || /^(bert|roberta)\.pooler\./.test(name);
    const from = tw[src];
    if (!from || (isHead && opts.copyHead === false) || (isHead && !tf.util.arraysEqual(from.shape, shape))) {
      kept.push(name);
      continue;
    }
    // Position embeddings may be shorter in the student: take the first rows.
    const value = tf.tidy(() =>
      name.endsWith('position_embeddings.weight') ? tf.slice(from, [0, 0], shape) : tf.clone(from),
    );
    student.store.set(name, value);
    copied.push(name);
  }
  return { layerMap: map, copied, kept };
}
