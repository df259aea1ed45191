/** `distillery cache-teacher <config>`: precompute the teacher-output cache of a job. */
import type { Command } from 'commander';
import { precomputeTeacherCache } from '../job/cache-teacher.js';
import { loadJobConfig } from './validate.js';
import { action, commandLogger, commonOptions, writeJson, type CliContext, type CommonOptions } from './common.js';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('cache-teacher')
    .description("run the teacher once over the training examples and store its outputs in distillation.teacherCache.dir (later distill runs skip the teacher)")
    .argument('<config>', 'job config file with distillation.teacherCache.dir');
  commonOptions(cmd, { json: 'print the result as one JSON document on stdout' })
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .action(
      action(ctx, async (file: string, o: CommonOptions & { progress?: boolean }) => {
        const logger = commandLogger(o);
        const { config } = await loadJobConfig(file);
        const s = await precomputeTeacherCache(config, { logger, progress: o.progress === false ? 'lines' : true });
        if (o.json) writeJson(ctx, { ok: true, ...s });
        else ctx.out.write(`teacher cache ${s.dir} (${s.dtype}): ${s.examples} examples, ${s.computed} computed, ${s.cached} already cached, ${s.seconds.toFixed(1)} s; ${s.entries} entries in the folder\n`);
        return 0;
      }),
    );
}
