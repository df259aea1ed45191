/**
 * A test shard kind (`hash-shards`): each example i of a range gets a file `<dir>/<i>.bin` holding
 * sha256(seed, i) repeated, computed slowly (`delayMs` per example) so tests can kill a worker
 * mid-shard; merge writes `<dir>/manifest.json` listing every file in example order. The
 * single-process reference is {@link hashShardsInProcess}; the two folders must be equal byte for byte.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { HandlerSet, ShardKind, ShardRange } from '../handlers.js';

export interface HashShardData {
  dir: string;
  seed: string;
  /** @default 0 */
  delayMs?: number;
}
interface HashManifest {
  shard: number;
  files: string[];
}

const atomicWrite = (p: string, b: Uint8Array | string) => {
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, b);
  renameSync(tmp, p);
};

export const hashShards: ShardKind<HashShardData, HashManifest, { files: number }> = {
  async shard(d: HashShardData & ShardRange) {
    mkdirSync(d.dir, { recursive: true });
    const files: string[] = [];
    for (let i = d.start; i < d.end; i++) {
      const h = createHash('sha256').update(`${d.seed}:${i}`).digest();
      atomicWrite(join(d.dir, `${i}.bin`), Buffer.concat(Array.from({ length: 16 }, () => h)));
      files.push(`${i}.bin`);
      if (d.delayMs) await new Promise((r) => setTimeout(r, d.delayMs));
    }
    return { shard: d.shard, files };
  },
  merge(manifests, d) {
    const files = manifests.flatMap((m) => m.files);
    atomicWrite(join(d.dir, 'manifest.json'), JSON.stringify({ files }, null, 1) + '\n');
    return Promise.resolve({ files: files.length });
  },
};

/** The same folder, computed in this process as one shard. */
export async function hashShardsInProcess(d: HashShardData, total: number): Promise<void> {
  const ctx = {} as never;
  const m = await hashShards.shard({ ...d, delayMs: 0, shard: 0, shards: 1, start: 0, end: total, total }, ctx);
  await hashShards.merge([m], d, ctx);
}

/** For `distillery worker --handlers`. */
export const handlers: HandlerSet = { shards: { 'hash-shards': hashShards } };
