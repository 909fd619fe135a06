/**
 * `dsc host …`: the login server on the command line. Each subcommand opens the database, does one thing in
 * one transaction, prints a line (or JSON with --json) and exits: 0 ok, 1 refused (wrong response, locked…),
 * 2 bad input (unknown user, malformed response, corrupt database…) with nothing written.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { DeviceRecordError } from '../firmware/device-record.ts';
import { HostError, HostKeyError, keyPathFor, openHost, SealError, StoreError, type LoginHost } from '../host/index.ts';
import { loadOrCreateKeyFile, parseHostKeyHex } from '../host/host-key.ts';
import { isOcra, ocraAlgorithm, parsePskc, PskcError, writePskc, type PskcKey, type PskcProtection } from '../host/pskc.ts';
import { deviceKinds, type DeviceKind } from '../host/store.ts';
import { writeFileAtomic } from '../platform/atomic-file.ts';
import { dataFolder, exitFailure, exitOk, exitUsage, integerOption, parseOptions, required, UsageError, write, type Io } from './io.ts';

/** The database file inside the data folder (./.dsc/ or $DSC_HOME, see cli/io.ts `dataFolder`). */
export const defaultDbName = 'host.sqlite';
/** Device files and PSKC containers larger than this are refused unread. */
export const inputFileBytesMax = 4 * 1024 * 1024;

type Values = Record<string, string | boolean | string[] | undefined>;

interface Sub {
  readonly summary: string;
  readonly usage: string;
  readonly options: Record<string, { type: 'string' | 'boolean' }>;
  /** Whether the command may create the database (only enrolment does). */
  readonly creates?: boolean;
  run(host: LoginHost, values: Values, io: Io): { code: number; text: string; json: unknown };
}

const str = (values: Values, name: string) => values[name] as string | undefined;
const opt = (values: Values, name: string) => required(name, str(values, name));

function readInput(path: string, cwd: string, what: string): string {
  const full = resolve(cwd, path);
  let text: Buffer;
  try {
    text = readFileSync(full);
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (text.length > inputFileBytesMax) throw new UsageError(`${what} ${path} is ${text.length} bytes, more than ${inputFileBytesMax}`);
  return text.toString('utf8');
}

function kindOption(value: string | undefined): DeviceKind | undefined {
  if (value === undefined) return undefined;
  if (!(deviceKinds as readonly string[]).includes(value)) throw new UsageError(`--kind expected one of ${deviceKinds.join(', ')}, got ${JSON.stringify(value)}`);
  return value as DeviceKind;
}

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

function usd(amount: number): string {
  return `USD ${amount.toLocaleString('en-US')}`;
}

function dateOf(ms: number): string {
  return new Date(ms).toISOString();
}

const subs: Record<string, Sub> = {
  enroll: {
    summary: 'enrol a device file (from dsc provision) for a user',
    usage: 'dsc host enroll --user U --device DEVICE.json [--kind KIND] [--pin PIN]',
    options: { user: { type: 'string' }, device: { type: 'string' }, kind: { type: 'string' }, pin: { type: 'string' } },
    creates: true,
    run(host, v, io) {
      const path = opt(v, 'device');
      let json: unknown;
      try {
        json = JSON.parse(readInput(path, io.cwd, 'device file'));
      } catch (error) {
        if (error instanceof SyntaxError) throw new UsageError(`device file ${path} is not JSON: ${error.message}`);
        throw error;
      }
      let info;
      try {
        info = host.enroll({ user: opt(v, 'user'), record: json, ...(str(v, 'pin') !== undefined && { pin: str(v, 'pin')! }), ...(kindOption(str(v, 'kind')) && { kind: kindOption(str(v, 'kind'))! }) });
      } catch (error) {
        if (error instanceof DeviceRecordError || error instanceof RangeError || error instanceof TypeError) throw new UsageError(`device file ${path}: ${error.message}`);
        throw error;
      }
      return { code: exitOk, text: `enrolled ${info.serial} (${info.kind}, ${info.suite}) for ${opt(v, 'user')}`, json: info };
    },
  },
  assign: {
    summary: 'give an enrolled device to another user (shared device), or --deactivate it',
    usage: 'dsc host assign --user U --device SERIAL [--deactivate]',
    options: { user: { type: 'string' }, device: { type: 'string' }, deactivate: { type: 'boolean' } },
    run(host, v) {
      const info = host.assign({ user: opt(v, 'user'), serial: opt(v, 'device'), active: v.deactivate !== true });
      return { code: exitOk, text: `${info.serial} ${info.active ? 'active' : 'inactive'} for ${opt(v, 'user')} (users: ${info.users.join(', ')})`, json: info };
    },
  },
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
        const enrolled = host.store.transaction(() =>
          ocraKeys.map((k) =>
            host.enrollKey({
              ...(str(v, 'user') !== undefined && { user: str(v, 'user')! }),
              serial: k.serial ?? k.id, ...(k.model !== undefined && { model: k.model }),
              profile: /-P(SHA1|SHA256|SHA512)/.test(k.suite!) ? 'dscplus' : 'digipass', suite: k.suite!, secret: k.secret,
              ...(k.checkDigits !== undefined && { checkDigit: k.checkDigits }), ...(k.counter !== undefined && { counter: k.counter }),
              ...(str(v, 'pin') !== undefined && { pin: str(v, 'pin')! }), ...(kindOption(str(v, 'kind')) && { kind: kindOption(str(v, 'kind'))! }),
            }).serial));
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
  challenge: {
    summary: 'issue a fresh challenge for a user (and device, when the user has several)',
    usage: 'dsc host challenge --user U [--device SERIAL]',
    options: { user: { type: 'string' }, device: { type: 'string' } },
    run(host, v) {
      const issued = host.challenge({ user: opt(v, 'user'), ...(str(v, 'device') !== undefined && { serial: str(v, 'device')! }) });
      const text = issued.indexes ? `${issued.challenge}\t(codes ${issued.indexes[0]} and ${issued.indexes[1]} of card ${issued.serial})` : issued.challenge;
      return { code: exitOk, text, json: issued };
    },
  },
  verify: {
    summary: 'check a response: exit 0 "ok", or exit 1 and the reason',
    usage: 'dsc host verify --user U --challenge C --response R',
    options: { user: { type: 'string' }, challenge: { type: 'string' }, response: { type: 'string' } },
    run(host, v) {
      const result = host.verify({ user: opt(v, 'user'), challenge: opt(v, 'challenge'), response: opt(v, 'response') });
      if (result.ok) {
        const text = result.purpose === 'withdrawal' ? `ok: withdrawal of ${usd(result.amountUsd ?? 0)} authorized` : result.purpose === 'pin-change' ? 'ok: new PIN set' : 'ok';
        return { code: exitOk, text, json: result };
      }
      if (result.reason === 'unknown user') throw new UsageError(`unknown user ${JSON.stringify(opt(v, 'user'))}`);
      if (result.reason === 'malformed response') throw new UsageError(`--response expected the ${result.serial ? `digits device ${result.serial} shows` : 'card\'s digits'}, got ${opt(v, 'response').length} characters`);
      const text = result.reason === 'throttled' ? `throttled: retry in ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s` : result.locked ? `${result.reason} (device now locked)` : result.reason;
      return { code: exitFailure, text, json: result };
    },
  },
  unlock: {
    summary: 'administrator unlock of a device locked after too many wrong responses',
    usage: 'dsc host unlock --device SERIAL',
    options: { device: { type: 'string' } },
    run(host, v) {
      const info = host.unlock({ serial: opt(v, 'device'), by: 'cli' });
      return { code: exitOk, text: `unlocked ${info.serial}`, json: info };
    },
  },
  'unlock-code': {
    summary: 'the code that unlocks a PIN-locked digipass card showing LOCK-CODE',
    usage: 'dsc host unlock-code --device SERIAL --lock-code N',
    options: { device: { type: 'string' }, 'lock-code': { type: 'string' } },
    run(host, v) {
      const code = host.unlockCode({ serial: opt(v, 'device'), lockCode: opt(v, 'lock-code'), by: 'cli' });
      return { code: exitOk, text: code, json: { serial: opt(v, 'device'), unlockCode: code } };
    },
  },
  'pin-change': {
    summary: 'start a server-side PIN change (dscplus): answer the printed challenge with the NEW PIN, then verify',
    usage: 'dsc host pin-change --user U [--device SERIAL] --new-pin P --confirm-pin P',
    options: { user: { type: 'string' }, device: { type: 'string' }, 'new-pin': { type: 'string' }, 'confirm-pin': { type: 'string' } },
    run(host, v) {
      const issued = host.requestPinChange({ user: opt(v, 'user'), ...(str(v, 'device') !== undefined && { serial: str(v, 'device')! }), newPin: opt(v, 'new-pin'), confirmPin: opt(v, 'confirm-pin') });
      return { code: exitOk, text: issued.challenge, json: issued };
    },
  },
  'authorize-withdrawal': {
    summary: 'issue a challenge for a withdrawal from a device whose limits cover it; verify commits it',
    usage: 'dsc host authorize-withdrawal --user U --amount USD [--device SERIAL]',
    options: { user: { type: 'string' }, amount: { type: 'string' }, device: { type: 'string' } },
    run(host, v) {
      const issued = host.authorizeWithdrawal({ user: opt(v, 'user'), amountUsd: integerOption('amount', opt(v, 'amount')), ...(str(v, 'device') !== undefined && { serial: str(v, 'device')! }) });
      return { code: exitOk, text: `${issued.challenge}\t(${usd(issued.amountUsd)} with device ${issued.serial})`, json: issued };
    },
  },
  'temp-code': {
    summary: 'support: issue a temporary code (2 days full access, then 10 days to print an online card)',
    usage: 'dsc host temp-code --user U        |  dsc host temp-code --user U --check CODE',
    options: { user: { type: 'string' }, check: { type: 'string' } },
    run(host, v) {
      if (str(v, 'check') !== undefined) {
        const result = host.checkTempCode({ user: opt(v, 'user'), code: str(v, 'check')! });
        if (!result.ok && result.reason === 'unknown user') throw new UsageError(`unknown user ${JSON.stringify(opt(v, 'user'))}`);
        return { code: result.ok ? exitOk : exitFailure, text: result.ok ? `ok: ${result.access} access` : result.reason, json: result };
      }
      const issued = host.issueTempCode({ user: opt(v, 'user'), by: 'cli' });
      return { code: exitOk, text: `${issued.code}\t(full access until ${dateOf(issued.fullUntilMs)}, online card printing until ${dateOf(issued.printUntilMs)})`, json: issued };
    },
  },
  'code-card': {
    summary: 'print an online Security Code Card (224 codes, 21 days) with a valid temporary code',
    usage: 'dsc host code-card --user U --temp-code CODE',
    options: { user: { type: 'string' }, 'temp-code': { type: 'string' } },
    run(host, v) {
      const card = host.issueCodeCard({ user: opt(v, 'user'), tempCode: opt(v, 'temp-code') });
      const rows: string[] = [];
      for (let i = 0; i < card.codes.length; i += 8) {
        rows.push(card.codes.slice(i, i + 8).map((c, j) => `${String(i + j + 1).padStart(3, ' ')}:${c}`).join('  '));
      }
      return { code: exitOk, text: [`online Security Code Card ${card.serial}, valid until ${dateOf(card.expiresMs)}`, ...rows].join('\n'), json: card };
    },
  },
  devices: {
    summary: "list a user's devices (or one device by serial)",
    usage: 'dsc host devices --user U  |  dsc host devices --device SERIAL',
    options: { user: { type: 'string' }, device: { type: 'string' } },
    run(host, v) {
      const list = str(v, 'device') !== undefined ? [host.device(str(v, 'device')!)] : host.devices(opt(v, 'user'));
      const text = list.map((d) => `${d.serial}\t${d.kind}\t${d.profile}\t${d.suite}\t${d.active ? 'active' : 'inactive'}${d.locked ? '\tLOCKED' : ''}${d.failures ? `\t${d.failures} failures` : ''}\tusers: ${d.users.join(',')}`).join('\n');
      return { code: exitOk, text, json: list };
    },
  },
  audit: {
    summary: 'the newest audit entries (who, when, device, outcome, reason)',
    usage: 'dsc host audit [--user U | --device SERIAL] [--limit N]',
    options: { user: { type: 'string' }, device: { type: 'string' }, limit: { type: 'string' } },
    run(host, v) {
      const entries = host.auditLog({ ...(str(v, 'user') !== undefined && { user: str(v, 'user')! }), ...(str(v, 'device') !== undefined && { serial: str(v, 'device')! }), limit: str(v, 'limit') === undefined ? 50 : integerOption('limit', str(v, 'limit')!, 100_000) });
      const text = entries.map((e) => `${dateOf(e.atMs)}\t${e.user ?? '-'}\t${e.serial ?? '-'}\t${e.action}\t${e.outcome}${e.reason ? `\t${e.reason}` : ''}`).join('\n');
      return { code: exitOk, text, json: entries };
    },
  },
};

const common = `Common options:
  --db PATH   the host database (default ./.dsc/${defaultDbName}, or $DSC_HOME/${defaultDbName}); created by enroll and import only
  --json      print one JSON value instead of text
  --help      this help
The host key seals every secret in the database: DSC_HOST_KEY (64 hex digits) or the key file PATH.key,
created with mode 0600 beside a new database.
Exit codes: 0 ok; 1 refused (wrong response, expired, already used, locked…); 2 bad input (nothing written).`;

function usage(): string {
  const width = Math.max(...Object.keys(subs).map((s) => s.length));
  return [
    'usage: dsc host SUBCOMMAND [options]     (dsc host SUBCOMMAND --help)',
    '',
    ...Object.entries(subs).map(([name, s]) => `  ${name.padEnd(width)}  ${s.summary}`),
    '',
    'example:',
    '  $ dsc host enroll --user trader1 --device card.json',
    '  $ dsc host challenge --user trader1',
    '  482913',
    '  $ dsc host verify --user trader1 --challenge 482913 --response 90417265',
    '  ok',
    '',
    common,
  ].join('\n');
}

function openFor(io: Io, dbOption: string | undefined, creates: boolean): LoginHost {
  const dbPath = dbOption === undefined ? join(dataFolder(io), defaultDbName) : resolve(io.cwd, dbOption);
  const isNew = !existsSync(dbPath);
  if (isNew && !creates) throw new UsageError(`no host database at ${dbOption ?? dbPath} (enroll or import a device first)`);
  const envKey = io.env.DSC_HOST_KEY;
  let hostKey: Uint8Array;
  if (envKey !== undefined && envKey !== '') {
    hostKey = parseHostKeyHex(envKey, 'DSC_HOST_KEY');
  } else {
    const keyPath = keyPathFor(dbPath);
    if (!isNew && !existsSync(keyPath)) throw new UsageError(`the database ${dbOption ?? dbPath} exists but its key file ${keyPath} does not (set DSC_HOST_KEY)`);
    mkdirSync(dirname(dbPath), { recursive: true });
    hostKey = loadOrCreateKeyFile(keyPath, isNew);
  }
  try {
    return openHost({ dbPath, hostKey });
  } finally {
    hostKey.fill(0);
  }
}

export async function run(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    write(name === undefined ? io.stderr : io.stdout, usage());
    return name === undefined ? exitUsage : exitOk;
  }
  const sub = Object.hasOwn(subs, name) ? subs[name] : undefined;
  if (!sub) throw new UsageError(`unknown subcommand ${JSON.stringify(name)}; run \`dsc host --help\` for the list`);
  const { values } = parseOptions(rest, { ...sub.options, db: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    write(io.stdout, `usage: ${sub.usage}\n\n${sub.summary}.\n\n${common}`);
    return exitOk;
  }
  const json = values.json === true;
  let host: LoginHost | undefined;
  try {
    host = openFor(io, values.db as string | undefined, sub.creates === true);
    const result = sub.run(host, values as Values, io);
    write(io.stdout, json ? JSON.stringify(result.json) : result.text);
    return result.code;
  } catch (error) {
    if (error instanceof HostError) {
      if (json) write(io.stdout, JSON.stringify({ ok: false, reason: error.reason, message: error.message }));
      if (error.badInput) throw new UsageError(error.message);
      write(io.stderr, `dsc host ${name}: ${error.message}`);
      return exitFailure;
    }
    if (error instanceof StoreError || error instanceof HostKeyError || error instanceof SealError) throw new UsageError(error.message);
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) throw new UsageError(`database ${values.db ?? join(dataFolder(io), defaultDbName)}: ${(error as Error).message} (${code})`);
    throw error;
  } finally {
    host?.close();
  }
}
