/**
 * Where the host key comes from: DSC_HOST_KEY (64 hex digits) or a key file next to the database, created on
 * first use with owner-only permissions (0600) and read back on every later open.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { hostKeyBytes } from './seal.ts';

export class HostKeyError extends Error {
  override name = 'HostKeyError';
}

/** The conventional key file for a database: `host.sqlite` -> `host.sqlite.key`. */
export function keyPathFor(dbPath: string): string {
  return `${dbPath}.key`;
}

export function parseHostKeyHex(hex: string, where: string): Uint8Array {
  const text = hex.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new HostKeyError(`${where} expected ${hostKeyBytes * 2} hex digits (a ${hostKeyBytes}-byte key), got ${text.length} characters`);
  }
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/**
 * Read the key file, or create it (exclusively, mode 0600) when `create` and it does not exist.
 * @example
 * const key = loadOrCreateKeyFile('./.dsc/host.sqlite.key', true);
 */
export function loadOrCreateKeyFile(path: string, create: boolean): Uint8Array {
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new HostKeyError(`host key file ${path} is readable by others (mode ${mode.toString(8)}); run chmod 600 ${path}`);
    }
    return parseHostKeyHex(readFileSync(path, 'utf8'), `host key file ${path}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!create) throw new HostKeyError(`host key file ${path} does not exist (set DSC_HOST_KEY or keep the key file beside the database)`);
  }
  const key = randomBytes(hostKeyBytes);
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return Uint8Array.from(key);
}
