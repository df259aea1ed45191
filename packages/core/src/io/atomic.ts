/**
 * Crash-safe file writes: write a temporary file beside the target, fsync it, then rename it over
 * the target. A reader sees either the old file or the complete new one, never a torn write.
 * @packageDocumentation
 */
import { open, rename, unlink } from 'node:fs/promises';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DistilleryError } from '../util/errors.js';

/** Temp name in the same directory (rename is only atomic within one filesystem). */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Best-effort fsync of the directory so the rename itself survives a crash (not supported everywhere). */
async function syncDir(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // Windows and some filesystems cannot open/fsync directories; the file data is already synced.
  }
}

/**
 * Write `data` to `path` atomically: temp file in the same directory, fsync, rename.
 * On failure the temp file is removed and a `DistilleryError` (`IO_WRITE_FAILED`) names the path.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = toBytes(data);
  await writeFileAtomicWith(path, (write) => write(bytes));
}

/**
 * {@link writeFileAtomic} for content produced piece by piece: `produce` calls `write` for each chunk in order,
 * so a large file (a checkpoint's optimizer state) never has to exist in memory as one buffer. Same guarantees:
 * temp file, fsync, rename; on any error (also one `produce` throws) the temp file is removed. A
 * `DistilleryError` from `produce` passes through unchanged; anything else becomes `IO_WRITE_FAILED`.
 */
export async function writeFileAtomicWith(
  path: string,
  produce: (write: (chunk: Uint8Array) => Promise<void>) => Promise<void>,
): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    const h = await open(tmp, 'w');
    try {
      await produce(async (chunk) => {
        let off = 0;
        while (off < chunk.length) {
          const { bytesWritten } = await h.write(chunk, off, chunk.length - off);
          off += bytesWritten;
        }
      });
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (err instanceof DistilleryError) throw err;
    throw new DistilleryError('IO_WRITE_FAILED', `could not write file: ${(err as Error).message}`, {
      where: path,
      hint: 'check that the directory exists and is writable',
      cause: err,
    });
  }
  await syncDir(dirname(path));
}

/** Synchronous variant of {@link writeFileAtomic} (for exit handlers and other sync contexts). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  const bytes = toBytes(data);
  try {
    const fd = openSync(tmp, 'w');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // temp file may not exist
    }
    throw new DistilleryError('IO_WRITE_FAILED', `could not write file: ${(err as Error).message}`, {
      where: path,
      hint: 'check that the directory exists and is writable',
      cause: err,
    });
  }
}
