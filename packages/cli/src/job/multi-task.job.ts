/**
 * `tasks: [{ name?, data, teacher }, ...]` in a job: MultiTaskDistiller. Each task has its own data
 * and teacher; the student is one BERT whose classifier holds every task's labels side by side
 * (task k's head = columns [offset_k, offset_k + n_k)), so each task's adaptor reads its own slice.
 * Batches are drawn across tasks with p_k ∝ n_k^τ (`distillation.taskSamplingTemperature`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  DistilleryError,
  MultiTaskDistiller,
  type Adaptor,
  type AdaptorOutput,
  type DistillModel,
  type Logger,
  type PluginRegistry,
  type TaskBatch,
  type TaskSpec,
  type Hook,
} from '@distillery/core';
import { LabelMap, type EncodedBatch } from '@distillery/data';
import { bertAdaptor, type BertOutput } from '@distillery/models';
import type { JobConfig } from './schema.js';
import { loadTaskData, teacherLabelsOf, type TaskData } from './data.js';
import { bertKit } from './bert.kit.js';
import type { Kit } from './kits.js';
import { teacherFolder } from './multi-teacher.job.js';
import { attachTeacherCache, cacheNamespace, cacheReport, jobRowsOf, teacherFingerprint } from './teacher-cache.js';
import { addUnlabelled } from './unlabelled.js';

/** One task of the job, ready to train. */
interface TaskRun {
  name: string;
  data: TaskData;
  kit: Kit<EncodedBatch>;
  teacher: DistillModel<EncodedBatch>;
  offset: number;
}

/** Task k's slice of the student's logits, with its hard-label loss (mean over labelled rows). */
function sliceAdaptor(offset: number, n: number): Adaptor<EncodedBatch, BertOutput> {
  return (batch, out) => {
    const a: AdaptorOutput = bertAdaptor(batch, out);
    const logits = tf.slice(out.logits, [0, offset], [-1, n]);
    a.logits = logits;
    if (batch.labels) {
      const y = tf.tensor1d(batch.labels, 'int32');
      const w = tf.cast(tf.greaterEqual(y, 0), 'float32');
      const ce = tf.neg(
        tf.sum(tf.mul(tf.oneHot(tf.cast(tf.maximum(y, 0), 'int32') as tf.Tensor1D, n), tf.logSoftmax(logits)), -1),
      );
      a.losses = [tf.div(tf.sum(tf.mul(ce, w)), tf.maximum(tf.sum(w), 1))];
      a.labels = y;
    }
    return a;
  };
}

/** Accuracy of task k's slice of the student (or of a teacher) on batches. */
async function sliceAccuracy(
  model: DistillModel<EncodedBatch>,
  batches: readonly EncodedBatch[],
  offset: number,
  n: number,
  kit: Kit<EncodedBatch>,
  whole: boolean,
): Promise<number> {
  let ok = 0;
  let total = 0;
  for (const b of batches) {
    const pred = whole
      ? await kit.predict(model, b)
      : tf.tidy(
          () =>
            tf
              .argMax(tf.slice((model.forward(b, { training: false }) as BertOutput).logits, [0, offset], [-1, n]), -1)
              .dataSync() as Int32Array,
        );
    const gold = b.labels!;
    for (let i = 0; i < gold.length; i++) ok += pred[i] === gold[i] ? 1 : 0;
    total += gold.length;
  }
  return ok / Math.max(1, total);
}

/** Result of a multi-task job. */
export interface MultiTaskResult {
  tasks: { name: string; train: number; test: number; teacherAccuracy: number; studentAccuracy: number }[];
  steps: number;
  trainSeconds: number;
  studentParameters: number;
  teacherCache?: { hits: number; misses: number; cachedBatches: number; liveBatches: number };
}

/** Run the distillation of a `tasks` job (the teachers are pretrained; none is trained here). */
export async function runMultiTask(
  cfg: JobConfig,
  o: {
    registry: PluginRegistry;
    backend: string;
    log: Logger;
    hooks: Hook[];
    signal: AbortSignal;
    say: (m: string) => void;
    force?: boolean;
    resumeFrom?: string;
  },
): Promise<MultiTaskResult> {
  const seed = cfg.training.seed;
  if (cfg.student.tokenizer)
    throw new DistilleryError(
      'CONFIG_INVALID',
      'student.tokenizer is not supported in a "tasks" job yet (the student reads the task teachers\' tokenization)',
      { where: 'student.tokenizer', hint: 'remove student.tokenizer' },
    );
  const runs: TaskRun[] = [];
  let offset = 0;
  for (const [i, t] of (cfg.tasks ?? []).entries()) {
    teacherFolder(t.teacher.model, `tasks[${i}].teacher.model`);
    const name = t.name ?? `task${i}`;
    const tcfg: JobConfig = { ...cfg, teacher: { model: t.teacher.model }, task: { ...cfg.task, data: t.data } };
    const data = loadTaskData(t.data, seed, { teacherLabels: teacherLabelsOf(tcfg), logger: o.log });
    if (i === 0) addUnlabelled(cfg, data, o.log);
    const kit = await bertKit(data, tcfg);
    const teacher = await kit.build(t.teacher.model, seed, 'teacher');
    runs.push({ name, data, kit, teacher, offset });
    o.log.info(
      `task ${name}: ${data.train.length} train / ${data.test.length} test examples, ${data.labels.size} labels (student logits ${offset}..${offset + data.labels.size - 1})`,
    );
    offset += data.labels.size;
  }
  if (new Set(runs.map((r) => r.name)).size !== runs.length)
    throw new DistilleryError('CONFIG_INVALID', 'two tasks have the same name', {
      where: 'tasks[].name',
      hint: 'give each task its own name',
    });
  // The student reads every task's batches: they must come from one tokenizer.
  const vocab = (k: Kit<EncodedBatch>) => JSON.stringify(k.tokenizerFiles?.() ?? {});
  const tokDirs = (cfg.tasks ?? []).map((t, i) => teacherFolder(t.teacher.model, `tasks[${i}].teacher.model`));
  runs.forEach((r, i) => {
    if (i > 0 && (vocab(r.kit) !== vocab(runs[0]!.kit) || !sameTokenizer(tokDirs[i]!, tokDirs[0]!))) {
      throw new DistilleryError(
        'CONFIG_INVALID',
        `tasks[${i}]'s teacher tokenizes differently from tasks[0]'s: one student reads both tasks' batches`,
        {
          where: `tasks[${i}].teacher.model`,
          hint: 'use task teachers that share a tokenizer (e.g. fine-tuned from one base model)',
        },
      );
    }
  });
  // One label space for the student: every task's labels side by side, named "<task>/<label>".
  const merged = new LabelMap(runs.flatMap((r) => r.data.labels.names.map((n) => `${r.name}/${n}`)));
  // (No examples: this kit only builds the student, with the merged label space.)
  const studentKit = await bertKit(
    {
      ...runs[0]!.data,
      train: [],
      validation: [],
      test: [],
      unlabelled: undefined,
      labels: merged,
      teacherSize: merged.size,
    },
    { ...cfg, teacher: { model: cfg.tasks![0]!.teacher.model }, task: { ...cfg.task, data: cfg.tasks![0]!.data } },
  );
  const student = await studentKit.build(cfg.student.model, seed + 1, 'student');
  const tasks: Record<string, TaskSpec<EncodedBatch, never, never>> = {};
  for (const r of runs) {
    tasks[r.name] = {
      teacher: r.teacher as never,
      adaptorT: r.kit.adaptor,
      adaptorS: sliceAdaptor(r.offset, r.data.labels.size),
      dataloader: (r.kit.distillSource ?? r.kit.trainSource)(seed + 1),
    };
  }
  const distiller = new MultiTaskDistiller<EncodedBatch, never, never>({
    student: student as never,
    tasks,
    tau: cfg.distillation.taskSamplingTemperature,
    registry: o.registry,
    trainingConfig: cfg.training,
    distillationConfig: cfg.distillation,
    backend: o.backend,
  });
  const cache = cfg.distillation.teacherCache
    ? attachTeacherCache(
        distiller,
        cfg,
        cacheNamespace(
          cfg,
          await Promise.all(
            runs.map((r, i) => teacherFingerprint(cfg.tasks![i]!.teacher.model, r.teacher as DistillModel<unknown>)),
          ),
          { tasks: runs.map((r) => r.name) },
        ),
        o.log,
        (tb: TaskBatch<EncodedBatch>) => {
          const rows = jobRowsOf(tb.batch);
          return rows && { ...rows, keys: rows.keys.map((k) => `${tb.task}\u0000${k}`) };
        },
      )
    : undefined;
  const r = await distiller.train({
    hooks: o.hooks,
    signal: o.signal,
    runConfig: cfg,
    force: o.force,
    resumeFrom: o.resumeFrom,
  });
  if (cache) o.say(cacheReport(cache));
  const out: MultiTaskResult['tasks'] = [];
  for (const t of runs) {
    const test = t.kit.testBatches();
    const ta = await sliceAccuracy(t.teacher, test, 0, 0, t.kit, true);
    const sa = await sliceAccuracy(student, test, t.offset, t.data.labels.size, t.kit, false);
    o.say(`task ${t.name}: teacher ${(100 * ta).toFixed(2)} %, student ${(100 * sa).toFixed(2)} %`);
    out.push({
      name: t.name,
      train: t.data.train.length,
      test: t.data.test.length,
      teacherAccuracy: ta,
      studentAccuracy: sa,
    });
    t.teacher.dispose?.();
  }
  const params = Object.values(student.parameters()).reduce((n, v) => n + v.size, 0);
  student.dispose?.();
  return {
    tasks: out,
    steps: r.globalStep,
    trainSeconds: r.durationMs / 1000,
    studentParameters: params,
    ...(cache ? { teacherCache: { ...cache.stats } } : {}),
  };
}

function sameTokenizer(a: string, b: string): boolean {
  return tokenizerText(a) === tokenizerText(b);
}

function tokenizerText(dir: string): string {
  for (const f of ['tokenizer.json', 'vocab.txt'])
    if (existsSync(join(dir, f))) return readFileSync(join(dir, f), 'utf8');
  return '';
}
