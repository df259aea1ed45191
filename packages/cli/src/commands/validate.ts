import { readFileSync } from 'node:fs';
import { ConfigError, assertPluginNames, createRegistry, loadConfigFile, silentLogger } from '@distillery/core';
import { JobConfigSchema, type JobConfig } from '../job/schema.js';

/** Load and fully validate a job config: schema, then plugin names against the registry. */
export async function loadJobConfig(file: string): Promise<{ config: JobConfig; text: string }> {
  const config = loadConfigFile(JobConfigSchema, file);
  const text = readFileSync(file, 'utf8');
  const registry = await createRegistry({ plugins: config.plugins, logger: silentLogger });
  assertPluginNames(config.distillation, registry, { file, text });
  return { config, text };
}

/** `distillery validate <config>`: exit 0 and a one-line OK, or 1 with every problem named. */
export async function validateCommand(file: string, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  try {
    const { config } = await loadJobConfig(file);
    const m = config.distillation.intermediateMatches.length;
    out.write(`${file}: valid (${config.teacher.model.type} teacher → ${config.student.model.type} student, kd ${config.distillation.kdLossType}, ${m} intermediate match${m === 1 ? '' : 'es'})\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError || (e as { code?: string }).code) {
      process.stderr.write(`${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}
