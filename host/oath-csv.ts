/**
 * The OATH CSV seed file, in the format privacyIDEA documents for OCRA tokens ("Import" in its admin guide):
 *
 *   <serial>, <seed as hex>, ocra, <ocrasuite>
 *
 * one token a line; lines starting with `#` are comments; a first line `# version: 2` puts the owner in
 * three leading columns (user name, resolver, realm). privacyIDEA reads nothing after the suite of an OCRA
 * line, so this host carries what it needs for a lossless round trip in further `name=value` columns there:
 * `counter=N`, `checkdigits=1`, `pin=NNNN`, `user=U`. The seeds (and PINs) are in the clear, as this format is.
 */
import { ocraUrn, PskcKeyError, type PskcKey } from './pskc-model.ts';
import type { PskcRead, PskcSkipped } from './pskc-read.ts';

export const oathCsvLinesMax = 10_000;
/** The extension columns after the suite, in the order they are written. */
export const oathCsvExtensions = ['counter', 'checkdigits', 'pin', 'user'] as const;

export class OathCsvError extends Error {
  override name = 'OathCsvError';
}

/** What an OATH CSV line can say about an OCRA key (a subset of PskcKey). */
export type OathCsvKey = Pick<PskcKey, 'serial' | 'suite' | 'secret' | 'counter' | 'checkDigits' | 'pin' | 'userId'>;

const unsafe = /[,\r\n=#]/;

function cell(value: string, what: string, serial: string): string {
  if (unsafe.test(value) || value !== value.trim()) throw new OathCsvError(`device ${serial}: ${what} ${JSON.stringify(value)} cannot be written to an OATH CSV file (it has a comma, =, #, a line break or edge spaces)`);
  return value;
}

/**
 * Write OCRA keys as an OATH CSV seed file.
 * @example
 * writeOathCsv([{ serial: '314', suite: 'OCRA-1:HOTP-SHA1-8:QN06', secret, counter: 0 }])
 * // '# …\n314,3132…,ocra,OCRA-1:HOTP-SHA1-8:QN06,counter=0\n'
 */
export function writeOathCsv(keys: readonly OathCsvKey[]): string {
  const lines = [
    '# OATH CSV seed file (privacyIDEA format): serial, seed (hex), ocra, suite[, counter=N][, checkdigits=1][, pin=NNNN][, user=U]',
    '# The seeds are in the clear: keep this file private (mode 0600) and delete it once imported.',
  ];
  for (const key of keys) {
    const serial = key.serial ?? '';
    if (serial === '' || key.suite === undefined) throw new OathCsvError('every key needs a serial and a suite');
    const columns = [cell(serial, 'serial', serial), Buffer.from(key.secret).toString('hex'), 'ocra', cell(key.suite, 'suite', serial)];
    if (key.counter !== undefined) columns.push(`counter=${key.counter}`);
    if (key.checkDigits !== undefined) columns.push(`checkdigits=${key.checkDigits ? 1 : 0}`);
    if (key.pin !== undefined) columns.push(`pin=${cell(key.pin, 'PIN', serial)}`);
    if (key.userId !== undefined) columns.push(`user=${cell(key.userId, 'user', serial)}`);
    lines.push(columns.join(','));
  }
  return `${lines.join('\n')}\n`;
}

function extension(key: Record<string, unknown>, column: string, serial: string): void {
  const at = column.indexOf('=');
  const name = column.slice(0, at).trim().toLowerCase();
  const value = column.slice(at + 1).trim();
  const bad = (expected: string) => new PskcKeyError(serial, name, `expected ${expected}, got ${JSON.stringify(value.slice(0, 20))}`);
  if (name === 'counter') {
    if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) throw bad('a non-negative integer below 2^53');
    key.counter = Number(value);
  } else if (name === 'checkdigits') {
    if (!/^(0|1|true|false)$/.test(value)) throw bad('1 or 0');
    key.checkDigits = value === '1' || value === 'true';
  } else if (name === 'pin') {
    if (!/^\d{1,16}$/.test(value)) throw new PskcKeyError(serial, 'pin', 'expected decimal digits');
    key.pin = value;
  } else if (name === 'user') {
    if (value === '') throw bad('a user name');
    key.userId = value;
  } else {
    throw new PskcKeyError(serial, `column ${JSON.stringify(name)}`, `unknown (the columns after the suite are ${oathCsvExtensions.map((n) => `${n}=`).join(', ')})`);
  }
}

function readLine(columns: string[], version2: boolean): PskcKey | undefined {
  const owner = version2 ? columns.splice(0, 3).map((c) => c.trim()) : [];
  const serial = (columns[0] ?? '').trim();
  if (serial === '') return undefined; // privacyIDEA skips a line with an empty serial
  const where = serial;
  const type = (columns[2] ?? 'hotp').trim().toLowerCase();
  if (type !== 'ocra') throw new PskcKeyError(where, 'type', `${JSON.stringify(type)} token: only OCRA keys can be enrolled here`);
  const seed = (columns[1] ?? '').trim();
  if (!/^([0-9a-fA-F]{2})+$/.test(seed)) throw new PskcKeyError(where, 'seed', 'expected an even number of hex digits');
  const suite = (columns[3] ?? '').trim();
  // privacyIDEA would fall back to its default OCRA-1:HOTP-SHA1-8:QH40, which a keypad card cannot answer.
  if (suite === '') throw new PskcKeyError(where, 'suite', 'missing');
  const key: Record<string, unknown> = { id: serial, serial, algorithm: ocraUrn, suite, secret: Uint8Array.from(Buffer.from(seed, 'hex')) };
  if (owner[0]) key.userId = owner[0];
  try {
    for (const column of columns.slice(4)) {
      if (column.trim() === '') continue;
      if (!column.includes('=')) throw new PskcKeyError(where, `column ${JSON.stringify(column.trim().slice(0, 20))}`, 'expected name=value after the suite');
      extension(key, column, where);
    }
  } catch (error) {
    (key.secret as Uint8Array).fill(0);
    throw error;
  }
  return key as unknown as PskcKey;
}

/**
 * Read an OATH CSV seed file, per line: a line this host cannot use is listed in `skipped` with its reason.
 * @example
 * const { keys, skipped } = readOathCsv('314,3132333435363738393031323334353637383930,ocra,OCRA-1:HOTP-SHA1-8:QN06\n');
 */
export function readOathCsv(input: string): PskcRead {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const lines = text.split('\n');
  if (lines.length > oathCsvLinesMax) throw new OathCsvError(`more than ${oathCsvLinesMax} lines`);
  // The same rule as privacyIDEA: only the very first line can set the version.
  const version2 = /^#\s*version:\s*2\b/.test(lines[0] ?? '');
  const keys: PskcKey[] = [];
  const skipped: PskcSkipped[] = [];
  const serials = new Set<string>();
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#')) return;
    const columns = line.split(',');
    if (columns.length <= 1) return;
    try {
      const key = readLine(columns, version2);
      if (!key) return;
      if (serials.has(key.serial!)) {
        key.secret.fill(0);
        throw new PskcKeyError(key.serial!, 'serial', `appears twice (line ${index + 1})`);
      }
      serials.add(key.serial!);
      keys.push(key);
    } catch (error) {
      if (!(error instanceof PskcKeyError)) throw error;
      skipped.push({ id: error.keyId, field: error.field, reason: error.message });
    }
  });
  return { keys, skipped, warnings: [] };
}
