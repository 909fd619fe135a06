/**
 * Device files on disk: read and validate (never repairing), write atomically (temp file, fsync, rename),
 * so a crash mid-write leaves the old file or the new one, never a torn one.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { DeviceRecordError, parseDeviceRecord, serializeDeviceRecord, type DeviceRecord } from '../firmware/device-record.ts';

/** A device file is a few hundred bytes; anything far larger is not one, and is not read into memory. */
export const deviceFileBytesMax = 64 * 1024;

/** The device file cannot be used; the message names the file and what is wrong. It was not changed. */
export class DeviceFileError extends Error {
  override name = 'DeviceFileError';
}

/**
 * Read and validate a device file.
 * @example
 * const record = readDeviceFile('card.json');
 */
export function readDeviceFile(path: string): DeviceRecord {
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
  try {
    return parseDeviceRecord(json);
  } catch (error) {
    if (error instanceof DeviceRecordError) throw new DeviceFileError(`device file ${JSON.stringify(path)}: ${error.message}`);
    throw error;
  }
}

/**
 * Write `record` to `path` atomically: a temp file beside it, fsync, rename over, fsync the folder.
 * @example
 * writeDeviceFile('card.json', record, { exclusive: true });
 */
export function writeDeviceFile(path: string, record: DeviceRecord, options: { exclusive?: boolean } = {}): void {
  if (options.exclusive && existsSync(path)) throw new DeviceFileError(`device file ${JSON.stringify(path)} already exists (not overwritten)`);
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, serializeDeviceRecord(record));
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some file systems cannot fsync a folder; the rename itself is still atomic.
  }
}
