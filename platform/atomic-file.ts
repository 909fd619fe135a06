/**
 * The one atomic file write of the project: every shell that replaces a file (device files, exported
 * keys, the demo setup) goes through here, so the rule lives in one place.
 *
 * - The temporary file is created beside the target with an unpredictable name, exclusively (`O_EXCL`)
 *   and without following a symlink (`O_NOFOLLOW`): a planted link or file makes the write fail instead
 *   of sending a secret into a file somebody else owns.
 * - Its mode is set at creation, so the secret is never readable by others, not even for a moment.
 * - fsync the data, rename over the target, fsync the folder: a crash leaves the old file or the new one,
 *   never half of either.
 */
import { closeSync, constants, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Random bytes in a temporary file's name: 2^96 names, so a name cannot be guessed in advance. */
export const tempNameRandomBytes = 12;

/** Mode of files that may hold secrets: the owner alone reads and writes them. */
export const secretFileMode = 0o600;

export interface AtomicWriteOptions {
  /** File mode of the new file; defaults to {@link secretFileMode}. */
  mode?: number;
  /** Refuse when the target exists already (create-only). */
  exclusive?: boolean;
}

/** The target exists and the write was asked to be exclusive. */
export class FileExistsError extends Error {
  constructor(readonly path: string) {
    super(`${JSON.stringify(path)} already exists (not overwritten)`);
    this.name = 'FileExistsError';
  }
}

const createFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Create a new file exclusively, never following a symlink. Returns its descriptor.
 * @example
 * const fd = createExclusive('/tmp/x/.card.json.3f2a…', 0o600);
 */
export function createExclusive(path: string, mode: number = secretFileMode): number {
  return openSync(path, createFlags, mode);
}

/** A temporary path beside `path`, in the same folder so that the rename is atomic. */
export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(tempNameRandomBytes).toString('hex')}.tmp`);
}

/**
 * Write `data` to `path` atomically (see the file comment).
 * @example
 * writeFileAtomic('card.json', JSON.stringify(record));
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const temp = tempPathBeside(path);
  const fd = createExclusive(temp, options.mode ?? secretFileMode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  try {
    if (options.exclusive) {
      // link() fails when the target exists, so "create only" holds even against a racing writer.
      linkExclusive(temp, path);
    } else {
      renameSync(temp, path);
    }
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // Already renamed or removed; nothing is left behind either way.
    }
    throw error;
  }
  fsyncFolder(dirname(path));
}

function linkExclusive(temp: string, path: string): void {
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(path);
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

/** fsync a folder so that a rename in it survives a crash. Some file systems cannot; the rename is still atomic. */
export function fsyncFolder(folder: string): void {
  try {
    const fd = openSync(folder, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // See above: best effort on file systems that refuse a folder fsync.
  }
}
