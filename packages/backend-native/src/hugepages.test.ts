/**
 * The wasm heap is advised for transparent huge pages (native/hugepages.cc) once a native kernel has seen it: the
 * mapping that holds the tensors carries the `hg` (MADV_HUGEPAGE) flag in /proc/self/smaps. Linux only, and only
 * where THP is not switched off ("never").
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { nativeReady } from './testing/compare.js';

const THP = '/sys/kernel/mm/transparent_hugepage/enabled';
const thpOn = existsSync(THP) && !/\[never\]/.test(readFileSync(THP, 'utf8'));
const ready = nativeReady() && process.platform === 'linux' && thpOn && process.env.DISTILLERY_HUGEPAGES !== '0';

/** Sizes in KiB of the mappings advised MADV_HUGEPAGE. */
function advisedMappings(): number[] {
  const sizes: number[] = [];
  let size = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (line.startsWith('Size:')) size = Number(line.split(/\s+/)[1]);
    if (line.startsWith('VmFlags:') && line.split(/\s+/).includes('hg')) sizes.push(size);
  }
  return sizes;
}

describe.skipIf(!ready)('transparent huge pages for the wasm heap', () => {
  it('the heap holding 16 MiB of tensors is advised after a native kernel ran on it', async () => {
    await tf.setBackend('native');
    const a = tf.ones([2048, 2048]); // 16 MiB: the heap grows past several 2 MiB pages
    const b = tf.add(a, a); // a native kernel sees the grown heap
    await b.data();
    const advised = advisedMappings();
    tf.dispose([a, b]);
    expect(advised.some((kib) => kib >= 16 * 1024)).toBe(true);
  });
});
