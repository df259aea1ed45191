/**
 * Hidden MSE, cosine and attention matches with projections, all in one JSON config
 * (`distillery.json`), distilling the CLINC150 BERT teacher into a 2-layer, 128-wide student; the
 * run's logs end with what each loss term contributed.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '@distillery/core';
import { JobConfigSchema, runJob, type JobConfig, type JobSummary } from '@distillery/cli';
import { formatContributions, termContributions, type TermContribution } from './contributions.js';

export { termContributions, formatContributions, type TermContribution };

/** Options of {@link runIntermediateMatches}. */
export interface IntermediateMatchesOptions {
  teacherDir: string;
  dataDir: string;
  /** @default "runs/intermediate-matches" */
  outputDir?: string;
  /** Steps instead of the config's epoch (quick runs). */
  numSteps?: number;
  /** Use only N train/test examples. */
  maxExamples?: number;
  logger?: Logger;
}

/** The example's config file (beside package.json). */
export const configPath = join(import.meta.dirname, '..', 'distillery.json');

/** The config with the teacher/data paths (and optional reductions) filled in, validated. */
export function exampleConfig(o: IntermediateMatchesOptions): JobConfig {
  // Only the fields filled in here are typed; JobConfigSchema.parse below checks the whole file.
  const raw = JSON.parse(readFileSync(configPath, 'utf8')) as {
    task: { data: { dir: string; maxExamples?: number } };
    teacher: { model: { pretrained: string } };
    training: { outputDir?: string; numEpochs?: number; numSteps?: number; logEvery?: number };
  };
  raw.task.data.dir = o.dataDir;
  if (o.maxExamples) raw.task.data.maxExamples = o.maxExamples;
  raw.teacher.model.pretrained = o.teacherDir;
  if (o.outputDir) raw.training.outputDir = o.outputDir;
  if (o.numSteps) {
    delete raw.training.numEpochs;
    raw.training.numSteps = o.numSteps;
    raw.training.logEvery = 1;
  }
  return JobConfigSchema.parse(raw);
}

/** Distil with the three matches and log each term's contribution. */
export async function runIntermediateMatches(
  o: IntermediateMatchesOptions,
): Promise<{ summary: JobSummary; contributions: TermContribution[] }> {
  const log = o.logger ?? createLogger('intermediate-matches');
  const cfg = exampleConfig(o);
  const summary = await runJob(cfg, 'distill', { logger: log, progress: 'lines' });
  const contributions = termContributions(
    readFileSync(join(cfg.training.outputDir, 'metrics.jsonl'), 'utf8'),
    cfg.distillation,
  );
  log.info(
    `what each term contributes (unweighted mean over the first / last tenth of the steps; weighted = weight × end):\n${formatContributions(contributions)}`,
  );
  return { summary, contributions };
}
