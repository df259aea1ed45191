/**
 * Relative paths in a config file resolve against the file's folder (as tsconfig and ESLint do), so
 * a config means the same thing from any working directory.
 * @packageDocumentation
 */
import { isAbsolute, resolve } from 'node:path';
import type { JobConfig, ModelConfig } from './schema.js';

const abs = (base: string, p: string): string => (p === '' || isAbsolute(p) ? p : resolve(base, p));

function model(m: ModelConfig, base: string): ModelConfig {
  if (m.type === 'onnx')
    return {
      ...m,
      path: abs(base, m.path),
      ...(m.tokenizer !== undefined ? { tokenizer: abs(base, m.tokenizer) } : {}),
    };
  return m.type === 'bert' && m.pretrained !== undefined ? { ...m, pretrained: abs(base, m.pretrained) } : m;
}

/** `task.unlabelled` and `distillation.teacherCache.dir`, made absolute. */
function extras(cfg: JobConfig, base: string): Pick<JobConfig, 'task' | 'distillation'> {
  const u = cfg.task.unlabelled;
  const c = cfg.distillation.teacherCache;
  return {
    task: {
      ...cfg.task,
      ...(u === undefined
        ? {}
        : { unlabelled: typeof u === 'string' ? abs(base, u) : { ...u, path: abs(base, u.path) } }),
    },
    distillation: {
      ...cfg.distillation,
      ...(typeof c === 'object' && c.dir ? { teacherCache: { ...c, dir: abs(base, c.dir) } } : {}),
    },
  };
}

/**
 * A copy of `cfg` with every file-system path made absolute against `baseDir`: data files and
 * folders, pretrained model folders, `outputDir` and `logDir`. Plugin specifiers are left alone
 * (they have their own rules, see plugin resolution in the core).
 */
export function resolveConfigPaths(cfg: JobConfig, baseDir: string): JobConfig {
  const dataOf = (d: JobConfig['task']['data']): JobConfig['task']['data'] =>
    d.type === 'clinc150'
      ? { ...d, dir: abs(baseDir, d.dir) }
      : d.type === 'spam-assassin'
        ? d
        : {
            ...d,
            train: abs(baseDir, d.train),
            ...(d.test !== undefined ? { test: abs(baseDir, d.test) } : {}),
            ...('validation' in d && d.validation !== undefined ? { validation: abs(baseDir, d.validation) } : {}),
          };
  const data = dataOf(cfg.task.data);
  const training = (t: JobConfig['training']) => ({
    ...t,
    outputDir: abs(baseDir, t.outputDir),
    logDir: t.logDir === null ? null : abs(baseDir, t.logDir),
  });
  const x = extras(cfg, baseDir);
  return {
    ...cfg,
    distillation: x.distillation,
    task: { ...x.task, data },
    teacher: {
      ...cfg.teacher,
      model: model(cfg.teacher.model, baseDir),
      ...(cfg.teacher.training ? { training: training(cfg.teacher.training) } : {}),
    },
    student: {
      ...cfg.student,
      model: model(cfg.student.model, baseDir),
      ...(cfg.student.tokenizer && cfg.student.tokenizer !== 'build'
        ? { tokenizer: abs(baseDir, cfg.student.tokenizer) }
        : {}),
    },
    ...(cfg.teachers ? { teachers: cfg.teachers.map((t) => ({ ...t, model: model(t.model, baseDir) })) } : {}),
    ...(cfg.tasks
      ? {
          tasks: cfg.tasks.map((t) => ({
            ...t,
            data: dataOf(t.data),
            teacher: { model: model(t.teacher.model, baseDir) },
          })),
        }
      : {}),
    training: training(cfg.training),
  };
}
