/** `dsc host import | export`: keys in and out as PSKC (RFC 6030) containers. */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { isOcra, ocraAlgorithm, parsePskc, PskcError, writePskc, type PskcKey, type PskcProtection } from '../../host/pskc.ts';
import { writeFileAtomic } from '../../platform/atomic-file.ts';
import { exitFailure, exitOk, UsageError, type Io } from '../io.ts';
import { kindOption, opt, readInput, str, type HostCommand, type Values } from './command.ts';

function envSecret(io: Io, name: string | undefined, what: string): string | undefined {
  if (name === undefined) return undefined;
  const value = io.env[name];
  if (value === undefined || value === '') throw new UsageError(`--${what}-env ${name}: that environment variable is not set`);
  return value;
}

function presharedKey(io: Io, values: Values): Uint8Array | undefined {
  const path = str(values, 'key-file');
  if (path === undefined) return undefined;
  const hex = readInput(path, io.cwd, 'key file').trim();
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new UsageError(`key file ${path} expected 32 hex digits (an AES-128 key)`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export const pskcCommands: Record<string, HostCommand> = {
  import: {
    summary: 'import OCRA keys from a PSKC (RFC 6030) container, plain or encrypted',
    usage: 'dsc host import --pskc FILE [--user U] [--pin PIN] [--password-env VAR | --key-file HEXFILE] [--kind KIND]',
    options: { pskc: { type: 'string' }, user: { type: 'string' }, pin: { type: 'string' }, 'password-env': { type: 'string' }, 'key-file': { type: 'string' }, kind: { type: 'string' } },
    creates: true,
    run(host, v, io) {
      const path = opt(v, 'pskc');
      const password = envSecret(io, str(v, 'password-env'), 'password');
      const key = presharedKey(io, v);
      let keys: PskcKey[];
      try {
        keys = parsePskc(readInput(path, io.cwd, 'PSKC file'), { ...(password !== undefined && { password }), ...(key && { presharedKey: key }) });
      } catch (error) {
        if (error instanceof PskcError) throw new UsageError(`${path}: ${error.message}`);
        throw error;
      } finally {
        key?.fill(0);
      }
      const ocraKeys = keys.filter(isOcra);
      const skipped = keys.filter((k) => !isOcra(k)).map((k) => `${k.id} (${k.algorithm})`);
      try {
        // All or nothing: one bad key leaves the database as it was.
        const enrolled = host.enrollKeys(ocraKeys.map((k) => ({
          ...(str(v, 'user') !== undefined && { user: str(v, 'user')! }),
          serial: k.serial ?? k.id, ...(k.model !== undefined && { model: k.model }),
          profile: /-P(SHA1|SHA256|SHA512)/.test(k.suite!) ? 'dscplus' : 'digipass', suite: k.suite!, secret: k.secret,
          ...(k.checkDigits !== undefined && { checkDigit: k.checkDigits }), ...(k.counter !== undefined && { counter: k.counter }),
          ...(str(v, 'pin') !== undefined && { pin: str(v, 'pin')! }), ...(kindOption(str(v, 'kind')) && { kind: kindOption(str(v, 'kind'))! }),
        }))).map((info) => info.serial);
        const text = [`imported ${enrolled.length} OCRA key(s)${enrolled.length ? `: ${enrolled.join(', ')}` : ''}`, ...(skipped.length ? [`skipped ${skipped.length} non-OCRA key(s): ${skipped.join(', ')}`] : [])].join('\n');
        return { code: enrolled.length > 0 ? exitOk : exitFailure, text, json: { imported: enrolled, skipped } };
      } finally {
        for (const k of keys) k.secret.fill(0);
      }
    },
  },
  export: {
    summary: 'export OCRA keys as a PSKC container (encrypted with a password or a pre-shared key, or --plain)',
    usage: 'dsc host export --pskc FILE [--device SERIAL]... (--password-env VAR | --key-file HEXFILE [--key-name N] | --plain) [--force]',
    options: { pskc: { type: 'string' }, device: { type: 'string' }, 'password-env': { type: 'string' }, 'key-file': { type: 'string' }, 'key-name': { type: 'string' }, plain: { type: 'boolean' }, force: { type: 'boolean' } },
    run(host, v, io) {
      const path = resolve(io.cwd, opt(v, 'pskc'));
      if (existsSync(path) && v.force !== true) throw new UsageError(`${opt(v, 'pskc')} exists; give --force to replace it`);
      const password = envSecret(io, str(v, 'password-env'), 'password');
      const key = presharedKey(io, v);
      const chosen = [password !== undefined, key !== undefined, v.plain === true].filter(Boolean).length;
      if (chosen !== 1) throw new UsageError('give exactly one of --password-env, --key-file or --plain');
      const protection: PskcProtection = password !== undefined ? { type: 'password', keyName: str(v, 'key-name') ?? 'dscplus export', password }
        : key ? { type: 'preshared', keyName: str(v, 'key-name') ?? 'Pre-shared-key', key } : { type: 'none' };
      const serials = v.device === undefined ? undefined : [str(v, 'device')!];
      const keys = host.exportKeys(serials);
      try {
        const xml = writePskc(keys.map((k) => ({ id: k.serial, algorithm: ocraAlgorithm, suite: k.suite, serial: k.serial, model: k.model, manufacturer: 'dscplus', secret: k.secret, counter: k.counter, checkDigits: k.checkDigit, responseLength: Number(/HOTP-SHA\d+-(\d+)/.exec(k.suite)?.[1] ?? 8) })), protection, (n) => new Uint8Array(randomBytes(n)));
        // 0600 because --plain holds secrets; the temp file is exclusive and never follows a symlink.
        writeFileAtomic(path, xml);
      } finally {
        for (const k of keys) k.secret.fill(0);
        key?.fill(0);
      }
      return { code: exitOk, text: `exported ${keys.length} key(s) to ${opt(v, 'pskc')} (${protection.type})`, json: { exported: keys.map((k) => k.serial), protection: protection.type } };
    },
  },
};
