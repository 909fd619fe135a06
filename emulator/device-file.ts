/**
 * Device files on disk: read and validate (never repairing), write atomically (temp file, fsync, rename),
 * so a crash mid-write leaves the old file or the new one, never a torn one.
 *
 * One owner per device file: a command that holds the card (holdDeviceFile) holds the file's lock
 * (platform/file-lock.ts) until it is done, and every write-back checks that the file is still the one
 * it read or last wrote (its `generation`, a number each write raises by one, and its bytes): a file
 * that changed meanwhile is never replaced, so two holders can never reuse a counter value.
 */
import { readFileSync, statSync } from 'node:fs';
import { FileExistsError, writeFileAtomic } from '../platform/atomic-file.ts';
import { FileLockedError, lockFile, type FileLock } from '../platform/file-lock.ts';
import { DeviceRecordError, parseDeviceRecord, serializeDeviceRecord, type DeviceRecord } from '../firmware/device-record.ts';

/** A device file is a few hundred bytes; anything far larger is not one, and is not read into memory. */
export const deviceFileBytesMax = 64 * 1024;

/** The device file cannot be used; the message names the file and what is wrong. It was not changed. */
export class DeviceFileError extends Error {
  override name = 'DeviceFileError';
}

/** How long a command waits for another one to let go of a device file before refusing, in milliseconds. */
export const deviceLockWaitMs = 5_000;

/**
 * Read and validate a device file.
 * @example
 * const record = readDeviceFile('card.json');
 */
export function readDeviceFile(path: string): DeviceRecord {
  return readDeviceFileText(path).record;
}

/** The record, its generation (0 in files written before generations) and the exact text read. */
function readDeviceFileText(path: string): { record: DeviceRecord; generation: number; text: string } {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > deviceFileBytesMax) throw new DeviceFileError(`device file ${JSON.stringify(path)} is ${size} bytes, more than ${deviceFileBytesMax}: not a device file`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof DeviceFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new DeviceFileError(code === 'ENOENT' ? `device file ${JSON.stringify(path)} does not exist (make one with dsc provision)` : `device file ${JSON.stringify(path)} cannot be read: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DeviceFileError(`device file ${JSON.stringify(path)} is not valid JSON (truncated or corrupt?): ${(error as Error).message}`);
  }
  let generation = 0;
  if (typeof json === 'object' && json !== null && 'generation' in json) {
    const { generation: value, ...rest } = json as Record<string, unknown>;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new DeviceFileError(`device file ${JSON.stringify(path)}: "generation" expected a non-negative integer, got ${JSON.stringify(value)}`);
    }
    generation = value;
    json = rest;
  }
  try {
    return { record: parseDeviceRecord(json), generation, text };
  } catch (error) {
    if (error instanceof DeviceRecordError) throw new DeviceFileError(`device file ${JSON.stringify(path)}: ${error.message}`);
    throw error;
  }
}

function deviceFileText(record: DeviceRecord, generation: number): string {
  return serializeDeviceRecord({ ...record, generation } as DeviceRecord);
}

/**
 * Write `record` to `path` atomically (platform/atomic-file.ts: an exclusive temp file beside it, fsync, rename).
 * @example
 * writeDeviceFile('card.json', record, { exclusive: true });
 */
export function writeDeviceFile(path: string, record: DeviceRecord, options: { exclusive?: boolean; generation?: number } = {}): void {
  try {
    writeFileAtomic(path, deviceFileText(record, options.generation ?? 0), { exclusive: options.exclusive === true });
  } catch (error) {
    if (error instanceof FileExistsError) throw new DeviceFileError(`device file ${JSON.stringify(path)} already exists (not overwritten)`);
    throw error;
  }
}

/** A device file held by this process: its lock, the record as read, and a write-back that checks the file is unchanged. */
export interface HeldDeviceFile {
  readonly path: string;
  readonly record: DeviceRecord;
  /** The generation last read or written. */
  readonly generation: number;
  /** Write `record` back as the next generation; throws DeviceFileError (file untouched) when the file changed or the lock was lost. */
  save(record: DeviceRecord): void;
  /** Let go of the lock (the last save already happened). Safe to call twice. */
  release(): void;
}

/**
 * Lock a device file for this process and read it. A live holder is waited for up to `waitMs`
 * (deviceLockWaitMs by default), then DeviceFileError names its process id.
 * @example
 * const held = holdDeviceFile('card.json', { command: 'dsc respond' });
 * try { held.save(next); } finally { held.release(); }
 */
export function holdDeviceFile(path: string, options: { command: string; waitMs?: number }): HeldDeviceFile {
  // A file that cannot be used is reported before any lock file appears beside it.
  readDeviceFileText(path);
  let lock: FileLock;
  try {
    lock = lockFile(path, { waitMs: options.waitMs ?? deviceLockWaitMs, command: options.command });
  } catch (error) {
    if (error instanceof FileLockedError) throw new DeviceFileError(`device file ${error.message}`);
    throw error;
  }
  let current: { record: DeviceRecord; generation: number; text: string };
  try {
    current = readDeviceFileText(path);
  } catch (error) {
    lock.release();
    throw error;
  }
  return {
    path,
    get record() {
      return current.record;
    },
    get generation() {
      return current.generation;
    },
    save(record) {
      if (!lock.held()) throw new DeviceFileError(`device file ${JSON.stringify(path)}: its lock ${JSON.stringify(lock.lockPath)} was removed by someone else; not written`);
      let onDisk: string;
      try {
        onDisk = readFileSync(path, 'utf8');
      } catch (error) {
        throw new DeviceFileError(`device file ${JSON.stringify(path)} cannot be read back before writing: ${(error as Error).message}; not written`);
      }
      if (onDisk !== current.text) {
        const found = /"generation":\s*(\d+)/.exec(onDisk)?.[1] ?? 'none';
        throw new DeviceFileError(
          `device file ${JSON.stringify(path)} changed since it was read (generation ${found}, expected ${current.generation}): not overwritten; the card stops`,
        );
      }
      const generation = current.generation + 1;
      const text = deviceFileText(record, generation);
      writeFileAtomic(path, text);
      current = { record, generation, text };
    },
    release: () => lock.release(),
  };
}

/**
 * Replace a device file with a new card (provision --force): under the file's lock, so never while a
 * command holds the old card, and as a later generation than the file it replaces.
 * @example
 * replaceDeviceFile('card.json', newDeviceRecord(), 'dsc provision --force');
 */
export function replaceDeviceFile(path: string, record: DeviceRecord, command: string, waitMs: number = deviceLockWaitMs): void {
  let lock: FileLock;
  try {
    lock = lockFile(path, { waitMs, command });
  } catch (error) {
    if (error instanceof FileLockedError) throw new DeviceFileError(`device file ${error.message}`);
    throw error;
  }
  try {
    let previous = -1;
    try {
      previous = readDeviceFileText(path).generation;
    } catch {
      // No file, or one that cannot be read: nothing to count from.
    }
    writeDeviceFile(path, record, { generation: previous + 1 });
  } finally {
    lock.release();
  }
}
