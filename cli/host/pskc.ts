/**
 * `dsc host import | export`: keys in and out of other OATH servers, as PSKC (RFC 6030) containers or as the
 * OATH CSV seed files privacyIDEA imports. The file formats live in host/ (pskc-read, pskc-write, oath-csv),
 * the use-cases in host/transfer/; this file only reads options, secrets and files.
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { OathCsvError, readOathCsv, writeOathCsv } from '../../host/oath-csv.ts';
import { PskcError, readPskc, writePskc, type PskcProtection, type PskcRead } from '../../host/pskc.ts';
import { oathCsvKeyOf, pskcAlgorithms, pskcKeyOf, type PskcAlgorithmChoice } from '../../host/transfer/export.ts';
import { ImportRefused, importKeys } from '../../host/transfer/import.ts';
import { writeFileAtomic } from '../../platform/atomic-file.ts';
import { exitFailure, exitOk, UsageError, type Io } from '../io.ts';
import { kindOption, opt, readInput, str, type HostCommand, type Values } from './command.ts';
import type { SecretReader } from '../secrets.ts';

/** AES key lengths a pre-shared key file may hold, in hex digits (AES-128, -192, -256). */
const presharedHexDigits = [32, 48, 64];

function envSecret(io: Io, name: string | undefined, what: string): string | undefined {
  if (name === undefined) return undefined;
  const value = io.env[name];
  if (value === undefined || value === '') throw new UsageError(`--${what}-env ${name}: that environment variable is not set`);
  return value;
}

/** The container password: from an environment variable, or `--password -` (stdin or a prompt), never argv. */
async function containerPassword(io: Io, v: Values, secrets: SecretReader, order: readonly string[]): Promise<string | undefined> {
  const fromEnv = envSecret(io, str(v, 'password-env'), 'password');
  if (v.password === undefined) return fromEnv;
  if (v.password !== '-') throw new UsageError('--password takes only - (read from stdin, or asked at a prompt): a password on the command line is visible to other users; or use --password-env VAR');
  if (fromEnv !== undefined) throw new UsageError('give --password - or --password-env, not both');
  return secrets.read(v, 'password', order, 'container password');
}

function presharedKey(io: Io, values: Values): Uint8Array | undefined {
  const path = str(values, 'key-file');
  if (path === undefined) return undefined;
  const hex = readInput(path, io.cwd, 'key file').trim();
  if (!/^[0-9a-fA-F]+$/.test(hex) || !presharedHexDigits.includes(hex.length)) throw new UsageError(`key file ${path} expected 32, 48 or 64 hex digits (an AES-128, -192 or -256 key)`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function oneFile(v: Values): { format: 'pskc' | 'csv'; path: string } {
  const pskc = str(v, 'pskc');
  const csv = str(v, 'csv');
  if ((pskc === undefined) === (csv === undefined)) throw new UsageError('give exactly one of --pskc FILE or --csv FILE');
  return pskc !== undefined ? { format: 'pskc', path: pskc } : { format: 'csv', path: csv! };
}

const importSecrets = ['password', 'pin'] as const;
const exportSecrets = ['password'] as const;

export const pskcCommands: Record<string, HostCommand> = {
  import: {
    summary: 'import OCRA keys from a PSKC (RFC 6030) container or an OATH CSV seed file (privacyIDEA format)',
    usage: 'dsc host import (--pskc FILE [--password-env VAR | --password - | --key-file HEXFILE] [--allow-no-mac] | --csv FILE) [--user U] [--pin -] [--kind KIND] [--skip-unsupported]',
    options: {
      pskc: { type: 'string' }, csv: { type: 'string' }, user: { type: 'string' }, pin: { type: 'string' }, 'password-env': { type: 'string' }, password: { type: 'string' },
      'key-file': { type: 'string' }, kind: { type: 'string' }, 'allow-no-mac': { type: 'boolean' }, 'skip-unsupported': { type: 'boolean' },
    },
    creates: true,
    secrets: importSecrets,
    async run(host, v, io, secrets) {
      const { format, path } = oneFile(v);
      const password = await containerPassword(io, v, secrets, importSecrets);
      // --pin is the fallback for keys whose file carries no PIN key.
      const pin = v.pin === undefined ? undefined : await secrets.read(v, 'pin', importSecrets, 'fallback PIN');
      const kind = kindOption(str(v, 'kind'));
      const key = presharedKey(io, v);
      let read: PskcRead;
      try {
        const text = readInput(path, io.cwd, format === 'pskc' ? 'PSKC file' : 'CSV file');
        read = format === 'pskc' ? readPskc(text, { ...(password !== undefined && { password }), ...(key && { presharedKey: key }), allowNoMac: v['allow-no-mac'] === true }) : readOathCsv(text);
      } catch (error) {
        if (error instanceof PskcError || error instanceof OathCsvError) throw new UsageError(`${path}: ${error.message}`);
        throw error;
      } finally {
        key?.fill(0);
      }
      try {
        const result = await importKeys(host, read, {
          ...(str(v, 'user') !== undefined && { user: str(v, 'user')! }), ...(pin !== undefined && { pin }), ...(kind && { kind }),
          skipUnsupported: v['skip-unsupported'] === true, nowMs: Date.now(),
        });
        const serials = result.imported.map((d) => d.serial);
        const text = [
          `imported ${serials.length} OCRA key(s)${serials.length ? `: ${serials.join(', ')}` : ''}`,
          ...(result.skipped.length ? [`skipped ${result.skipped.length} key(s):`, ...result.skipped.map((s) => `  ${s.reason}`)] : []),
        ].join('\n');
        return {
          code: serials.length > 0 ? exitOk : exitFailure, text,
          ...(result.warnings.length && { note: result.warnings.map((w) => `warning: ${w}`).join('\n') }),
          json: { imported: serials, skipped: result.skipped, warnings: result.warnings },
        };
      } catch (error) {
        if (error instanceof ImportRefused) throw new UsageError(`${path}: nothing imported: ${error.message}`);
        throw error;
      } finally {
        for (const k of read.keys) k.secret.fill(0);
      }
    },
  },
  export: {
    summary: 'export OCRA keys as a PSKC container (encrypted, or --plain) or an OATH CSV seed file (seeds in the clear)',
    usage: 'dsc host export (--pskc FILE (--password-env VAR | --password - | --key-file HEXFILE [--key-name N] | --plain) [--pskc-algorithm ocra|ocra-1] [--issuer NAME] | --csv FILE) [--device SERIAL]... [--force]',
    options: {
      pskc: { type: 'string' }, csv: { type: 'string' }, device: { type: 'string', multiple: true }, 'password-env': { type: 'string' }, password: { type: 'string' },
      'key-file': { type: 'string' }, 'key-name': { type: 'string' }, plain: { type: 'boolean' }, force: { type: 'boolean' }, 'pskc-algorithm': { type: 'string' }, issuer: { type: 'string' },
    },
    secrets: exportSecrets,
    async run(host, v, io, secrets) {
      const { format, path: shown } = oneFile(v);
      const path = resolve(io.cwd, shown);
      if (existsSync(path) && v.force !== true) throw new UsageError(`${shown} exists; give --force to replace it`);
      const algorithm = (str(v, 'pskc-algorithm') ?? 'ocra') as PskcAlgorithmChoice;
      if (!Object.hasOwn(pskcAlgorithms, algorithm)) throw new UsageError(`--pskc-algorithm expected ocra or ocra-1, got ${JSON.stringify(algorithm)}`);
      if (format === 'csv' && (v.plain === true || v.password !== undefined || v['password-env'] !== undefined || v['key-file'] !== undefined || v['pskc-algorithm'] !== undefined)) {
        throw new UsageError('an OATH CSV file is never encrypted: --plain, --password, --password-env, --key-file and --pskc-algorithm are for --pskc');
      }
      const password = format === 'pskc' ? await containerPassword(io, v, secrets, exportSecrets) : undefined;
      const key = presharedKey(io, v);
      if (format === 'pskc' && [password !== undefined, key !== undefined, v.plain === true].filter(Boolean).length !== 1) {
        key?.fill(0);
        throw new UsageError('give exactly one of --password-env, --password -, --key-file or --plain');
      }
      const protection: PskcProtection = password !== undefined ? { type: 'password', keyName: str(v, 'key-name') ?? 'dscplus export', password }
        : key ? { type: 'preshared', keyName: str(v, 'key-name') ?? 'Pre-shared-key', key } : { type: 'none' };
      const devices = v.device as string[] | undefined;
      const keys = await host.exportKeys(devices === undefined ? undefined : [...new Set(devices)]);
      try {
        const text = format === 'csv' ? writeOathCsv(keys.map(oathCsvKeyOf))
          : writePskc(keys.map((k) => pskcKeyOf(k, { algorithm, ...(str(v, 'issuer') !== undefined && { issuer: str(v, 'issuer')! }) })), protection, (n) => new Uint8Array(randomBytes(n)));
        // Mode 0600: a CSV or --plain file holds the secrets; the temp file is exclusive and never follows a symlink.
        writeFileAtomic(path, text);
      } catch (error) {
        if (error instanceof OathCsvError) throw new UsageError(error.message);
        throw error;
      } finally {
        for (const k of keys) k.secret.fill(0);
        key?.fill(0);
      }
      const kind = format === 'csv' ? 'OATH CSV, seeds in the clear' : protection.type;
      const warning = format === 'csv' || protection.type === 'none'
        ? `warning: ${shown} holds every exported secret${keys.some((k) => k.pin !== undefined) ? ' and PIN' : ''} in the clear (mode 0600): move it only over a protected channel and delete it once imported` : undefined;
      return {
        code: exitOk, text: `exported ${keys.length} key(s) to ${shown} (${kind})`, ...(warning && { note: warning }),
        json: { exported: keys.map((k) => k.serial), format, protection: format === 'csv' ? 'none' : protection.type, ...(warning && { warning: warning.replace(/^warning: /, '') }) },
      };
    },
  },
};
