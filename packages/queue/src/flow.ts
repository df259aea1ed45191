/**
 * Sharded precomputation as a BullMQ flow: N child jobs `<kind>:shard`, one per example range,
 * and a parent `<kind>:merge` that BullMQ starts only once every child completed; it receives the
 * children's return values (their shard manifests). Workers write shard output to a store every
 * worker can reach (a shared folder today; anything implementing the kind's store later).
 */
import { DistilleryError, type Logger } from '@distillery/core';
import { QUEUE_NAME, loadBullmq, parseQueueUrl } from './connection.js';
import { shardRanges } from './handlers.js';

/** Options of {@link runShardFlow}. */
export interface ShardFlowOptions<D extends object> {
  url: string;
  /** The shard kind the workers serve (e.g. `teacher-cache`). */
  kind: string;
  /** Examples to split. */
  total: number;
  shards: number;
  /** Data every shard and the merge get (config, store location, …). */
  data: D;
  /** Id of the flow's parent job: the same id ⇒ the same flow (a re-run re-attaches). @default random */
  flowId?: string;
  /** Attempts per job (retried with exponential backoff). @default 3 */
  attempts?: number;
  /** @default 1000 */
  backoffMs?: number;
  logger: Logger;
  /** Called when a shard finishes (for progress lines). */
  onShard?: (shard: number, of: number) => void;
}

/** Enqueue the flow and wait for its merge; returns the merge's result. */
export async function runShardFlow<D extends object, R = unknown>(o: ShardFlowOptions<D>): Promise<R> {
  if (!Number.isInteger(o.shards) || o.shards < 1)
    throw new DistilleryError('USAGE', `--shards must be a positive integer, got ${o.shards}`, { where: '--shards' });
  const conn = parseQueueUrl(o.url);
  const { FlowProducer, Queue, QueueEvents } = await loadBullmq();
  const flows = new FlowProducer({ connection: conn });
  const queue = new Queue(QUEUE_NAME, { connection: conn });
  const events = new QueueEvents(QUEUE_NAME, { connection: conn });
  const ranges = shardRanges(o.total, o.shards);
  const flowId = o.flowId ?? `${o.kind}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const opts = {
    attempts: o.attempts ?? 3,
    backoff: { type: 'exponential', delay: o.backoffMs ?? 1000 },
    removeOnComplete: { age: 7 * 86_400 },
    removeOnFail: { age: 7 * 86_400 },
  };
  const childIds = new Set(ranges.map((r) => `${flowId}-shard-${r.shard}`));
  let done = 0;
  events.on('completed', ({ jobId }) => {
    if (childIds.delete(jobId)) o.onShard?.(++done, ranges.length);
  });
  try {
    await events.waitUntilReady();
    const tree = await flows.add({
      name: `${o.kind}:merge`,
      queueName: QUEUE_NAME,
      data: o.data,
      opts: { ...opts, jobId: `${flowId}-merge` },
      // A failed shard (after its retries) fails the parent, so the submitter hears about it.
      children: ranges.map((r) => ({
        name: `${o.kind}:shard`,
        queueName: QUEUE_NAME,
        data: { ...o.data, ...r },
        opts: { ...opts, jobId: `${flowId}-shard-${r.shard}`, failParentOnFailure: true },
      })),
    });
    o.logger.info(`flow ${flowId}: ${ranges.length} shard job(s) of ${o.kind} queued`);
    return (await tree.job.waitUntilFinished(events)) as R;
  } catch (e) {
    if (e instanceof DistilleryError) throw e;
    throw new DistilleryError('QUEUE_FLOW_FAILED', `${o.kind} flow ${flowId} failed: ${(e as Error).message}`, {
      where: `job ${flowId}-merge`,
      hint: 'the failed job stays in the failed set with its error (e.g. in redis-cli or a BullMQ dashboard); fix the cause and run again',
    });
  } finally {
    await events.close();
    await flows.close();
    await queue.close();
  }
}
