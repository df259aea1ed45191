/**
 * `distillery worker --queue redis://host:6379`: serve queued jobs (search trials, teacher-cache
 * shards) until stopped. SIGTERM/SIGINT: take no new job and let the current one finish; a second
 * signal abandons it (BullMQ hands it to another worker once its lock expires).
 * @packageDocumentation
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '@distillery/core';
import { type Command } from 'commander';
import { action, commandLogger, commonOptions, type CliContext, type CommonOptions, positiveInt } from './common.js';

/** Options of {@link workerCommand}. */
export interface WorkerCommandOptions {
  queue: string;
  /** @default 1 */
  concurrency?: number;
  /** Lock duration in ms (a dead worker's job is re-run after about this long). @default 30000 */
  lockDuration?: number;
  /** Stalled-job check interval in ms. @default 30000 */
  stalledInterval?: number;
  /** Modules exporting `handlers: HandlerSet` (extra job kinds). */
  handlers?: string[];
  logger: Logger;
}

/** Run a worker until SIGTERM/SIGINT (or `stop`); resolves once it has closed. */
export async function workerCommand(o: WorkerCommandOptions, stop?: AbortSignal): Promise<void> {
  const { startWorker, pingQueue, loadHandlerModules, handlerNames } = await import('@distillery/queue');
  await pingQueue(o.queue);
  // Jobs run in worker threads (the built-in kinds first, then --handlers): loading them here too
  // checks the modules before the first job and names the kinds in the start line.
  const modules = [
    new URL('../job/worker-handlers.js', import.meta.url).href,
    ...(o.handlers ?? []).map((f) => pathToFileURL(resolve(f)).href),
  ];
  const handlers = await loadHandlerModules(modules);
  const w = await startWorker({
    url: o.queue,
    handlerModules: modules,
    logger: o.logger,
    concurrency: o.concurrency,
    lockDuration: o.lockDuration,
    stalledInterval: o.stalledInterval,
  });
  await w.ready;
  const kinds = handlerNames(handlers);
  o.logger.info(`worker ${w.name} waiting for jobs on ${o.queue} (${kinds.join(', ')})`);
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    o.logger.info(
      signals === 1
        ? `${sig}: finishing the current job, then stopping (again to abandon it)`
        : `${sig}: abandoning the current job`,
    );
    void w.close(signals > 1);
  };
  const term = () => onSignal('SIGTERM');
  const int = () => onSignal('SIGINT');
  process.on('SIGTERM', term);
  process.on('SIGINT', int);
  stop?.addEventListener('abort', () => void w.close());
  try {
    await w.closed;
  } finally {
    process.off('SIGTERM', term);
    process.off('SIGINT', int);
  }
  o.logger.info(`worker ${w.name} stopped`);
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('worker')
    .description(
      'run queued jobs (search trials, teacher-cache shards, kinds from --handlers) from BullMQ on Redis until stopped (SIGTERM: finish the current job)',
    );
  commonOptions(cmd)
    .requiredOption('--queue <url>', 'Redis of the queue: redis://host:6379')
    .option('--concurrency <n>', 'jobs at once in this process', positiveInt, 1)
    .option(
      '--lock-duration <ms>',
      "job lock lifetime: a dead worker's job is re-run after about this long",
      positiveInt,
      30000,
    )
    .option('--stalled-interval <ms>', 'how often stalled jobs are looked for', positiveInt, 30000)
    .option('--handlers <module...>', 'extra job kinds: modules exporting `handlers` ({jobs, shards})')
    .action(
      action(
        ctx,
        async (
          o: CommonOptions & {
            queue: string;
            concurrency: number;
            lockDuration: number;
            stalledInterval: number;
            handlers?: string[];
          },
        ) => {
          if (o.logLevel) process.env.DISTILLERY_LOG_LEVEL = o.logLevel; // the job threads' logger
          await workerCommand({
            queue: o.queue,
            concurrency: o.concurrency,
            lockDuration: o.lockDuration,
            stalledInterval: o.stalledInterval,
            handlers: o.handlers,
            logger: commandLogger(o),
          });
          return 0;
        },
      ),
    );
}
