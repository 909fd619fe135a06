/**
 * Device files on disk: read and validate (never repairing), write atomically (temp file, fsync, rename),
 * so a crash mid-write leaves the old file or the new one, never a torn one.
 */
import { readFileSync, statSync } from 'node:fs';
import { FileExistsError, writeFileAtomic } from '../platform/atomic-file.ts';
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
 * Write `record` to `path` atomically (platform/atomic-file.ts: an exclusive temp file beside it, fsync, rename).
 * @example
 * writeDeviceFile('card.json', record, { exclusive: true });
 */
export function writeDeviceFile(path: string, record: DeviceRecord, options: { exclusive?: boolean } = {}): void {
  try {
    writeFileAtomic(path, serializeDeviceRecord(record), { exclusive: options.exclusive === true });
  } catch (error) {
    if (error instanceof FileExistsError) throw new DeviceFileError(`device file ${JSON.stringify(path)} already exists (not overwritten)`);
    throw error;
  }
}
