/**
 * What the teacher and student will look like — layer counts, widths, heads, position limit — read
 * from a pretrained folder's config.json or the model config, without building either model. The
 * match checks use these shapes; this file checks the shapes themselves.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bertConfig, readHfConfig, type BertConfig } from '@distillery/models';
import type { ModelConfig } from '../job/schema.js';
import type { CheckContext, Problem } from './types.js';

/** A model's shape as far as the config checks need it. */
export interface ModelShape {
  family: 'bert' | 'mlp';
  /** Human name for messages: "teacher (bert, 6 layers, hidden 384)". */
  label: string;
  /** Features its adaptor produces, and the valid layer indices of each. */
  features: Record<string, { count: number; first: string }>;
  /** Width of hidden feature `i` (undefined: unknown). */
  hiddenDim(i: number): number | undefined;
  /** BERT only. */
  heads?: number;
  maxPositions?: number;
}

function bertShape(
  role: string,
  c: Pick<BertConfig, 'numHiddenLayers' | 'hiddenSize' | 'numAttentionHeads' | 'maxPositionEmbeddings'>,
): ModelShape {
  return {
    family: 'bert',
    label: `${role} (bert, ${c.numHiddenLayers} layers, hidden size ${c.hiddenSize})`,
    // hidden: embeddings + one per layer; attention: one map per layer.
    features: {
      hidden: { count: c.numHiddenLayers + 1, first: 'the embeddings' },
      attention: { count: c.numHiddenLayers, first: 'layer 1' },
    },
    hiddenDim: () => c.hiddenSize,
    heads: c.numAttentionHeads,
    maxPositions: c.maxPositionEmbeddings,
  };
}

function mlpShape(role: string, hidden: readonly number[]): ModelShape {
  return {
    family: 'mlp',
    label: `${role} (mlp, ${hidden.length} hidden layer${hidden.length === 1 ? '' : 's'}${hidden.length ? ` [${hidden.join(', ')}]` : ''})`,
    features: { hidden: { count: hidden.length, first: 'the first hidden layer' } },
    hiddenDim: (i) => hidden[i],
  };
}

/** The first line of an error's message, without its "where: " prefix. */
export function firstLine(e: unknown, where?: string): string {
  const m = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
  return where && m.startsWith(`${where}: `) ? m.slice(where.length + 2) : m;
}

/** Shapes of the teacher and student (undefined where a problem prevents knowing) plus problems. */
export function modelShapes(ctx: CheckContext): { teacher?: ModelShape; student?: ModelShape; problems: Problem[] } {
  const problems: Problem[] = [];
  const { config: c } = ctx;
  const read = (dir: string, path: string): BertConfig | undefined => {
    // A missing folder or config.json is reported by the file checks.
    if (!existsSync(join(dir, 'config.json'))) return undefined;
    try {
      return readHfConfig(dir);
    } catch (e) {
      problems.push({
        path,
        message: `${join(dir, 'config.json')}: ${firstLine(e, join(dir, 'config.json'))}`,
        hint: "fix the model folder's config.json",
      });
      return undefined;
    }
  };
  const t = c.teacher.model;
  // The student is built on the teacher's config.json: a pretrained folder's, or the one beside an ONNX teacher.
  const onnxDir = t.type === 'onnx' ? (t.tokenizer ?? dirname(t.path)) : undefined;
  const teacherBase =
    (t.type === 'bert' || t.type === 'distilbert') && t.pretrained !== undefined
      ? read(t.pretrained, 'teacher.model.pretrained')
      : onnxDir !== undefined && existsSync(join(onnxDir, 'config.json'))
        ? read(onnxDir, 'teacher.model.tokenizer')
        : undefined;
  const defaults = bertConfig({ maxPositionEmbeddings: c.task.maxLength });
  const sized = (role: 'teacher' | 'student', m: ModelConfig): ModelShape | undefined => {
    if (m.type === 'mlp') return mlpShape(role, m.hidden);
    // An ONNX teacher's sizes come from the config.json beside it (or in its tokenizer folder), when there is one.
    if (m.type === 'onnx') return teacherBase && role === 'teacher' ? bertShape(role, teacherBase) : undefined;
    if (m.pretrained !== undefined) {
      const hf = role === 'teacher' ? teacherBase : read(m.pretrained, `${role}.model.pretrained`);
      return hf ? bertShape(role, hf) : undefined;
    }
    // Built here: the teacher's folder (or the defaults) with the config's sizes on top, as the kit does
    // (an ONNX teacher's config.json counts as its folder; a student with its own tokenizer starts from the defaults).
    const onnxBase =
      t.type === 'onnx' && existsSync(join(t.tokenizer ?? dirname(t.path), 'config.json'))
        ? read(t.tokenizer ?? dirname(t.path), 'teacher.model.tokenizer')
        : undefined;
    const folderBase = c.student.tokenizer ? undefined : (teacherBase ?? onnxBase);
    const base = role === 'student' && folderBase ? folderBase : defaults;
    const s = {
      numHiddenLayers: m.numHiddenLayers ?? base.numHiddenLayers,
      hiddenSize: ('hiddenSize' in m ? m.hiddenSize : undefined) ?? base.hiddenSize,
      numAttentionHeads: ('numAttentionHeads' in m ? m.numAttentionHeads : undefined) ?? base.numAttentionHeads,
      maxPositionEmbeddings: base.maxPositionEmbeddings,
    };
    if (s.hiddenSize % s.numAttentionHeads !== 0) {
      const ok = divisorsNear(s.hiddenSize, s.numAttentionHeads);
      problems.push({
        path: `${role}.model.${'numAttentionHeads' in m && m.numAttentionHeads !== undefined ? 'numAttentionHeads' : 'hiddenSize'}`,
        message: `hidden size ${s.hiddenSize} is not divisible by ${s.numAttentionHeads} attention heads`,
        hint: `use a head count that divides ${s.hiddenSize} (e.g. ${ok.join(' or ')}), or a hidden size that is a multiple of ${s.numAttentionHeads}`,
      });
    }
    return bertShape(role, s);
  };
  const teacher = sized('teacher', t);
  const student = sized('student', c.student.model);
  // BERT, DistilBERT, RoBERTa-style and ONNX encoders distil into each other; an MLP only into an MLP.
  const family = (type: string) => (type === 'mlp' ? 'mlp' : 'encoder');
  if (family(t.type) !== family(c.student.model.type)) {
    problems.push({
      path: 'student.model.type',
      message: `the teacher is a ${t.type} model and the student a ${c.student.model.type} model`,
      hint: 'a job distils between text encoders (bert, distilbert, onnx teacher) or between MLPs: make both encoders or both "mlp"',
    });
  }
  for (const [role, s] of [
    ['teacher', teacher],
    ['student', student],
  ] as const) {
    if (s?.maxPositions !== undefined && c.task.maxLength > s.maxPositions) {
      problems.push({
        path: 'task.maxLength',
        message: `maxLength ${c.task.maxLength} exceeds the ${role}'s max_position_embeddings (${s.maxPositions})`,
        hint: `use "maxLength": ${s.maxPositions} or less`,
      });
      break; // one problem for one field
    }
  }
  return { teacher, student, problems };
}

/** Head counts that divide `hidden`, nearest to `heads` first. */
function divisorsNear(hidden: number, heads: number): number[] {
  const ds: number[] = [];
  for (let h = 1; h <= Math.min(hidden, 64); h++) if (hidden % h === 0) ds.push(h);
  return ds
    .sort((a, b) => Math.abs(a - heads) - Math.abs(b - heads))
    .slice(0, 2)
    .sort((a, b) => a - b);
}
