/**
 * Opening the verifier: the store (SQLite file, or memory), the host key (given, from DSC_HOST_KEY's hex, or
 * the key file beside the database) and the limits.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { FileExistsError, secretFileMode, writeFileAtomic } from '../platform/atomic-file.ts';
import type { Random } from './challenge.ts';
import { auditKeepMsDefault, auditKeepMsMax, auditKeepMsMin, type HostCore } from './core.ts';
import { equalBytes } from '../firmware/compare.ts';
import { HostKeyError, keyPathFor, loadOrCreateKeyFile, parseHostKeyHex } from './host-key.ts';
import { Host } from './host.ts';
import { challengeTtlMaxMs, challengeTtlMs } from './issue.ts';
import { MaterialCache } from './match.ts';
import { memoryStore } from './memory-store.ts';
import { pooledRandom } from './random.ts';
import { passwordCostDefault, type ScryptCost } from './password.ts';
import { issueLimitsDefault, type IssueLimits } from './rate-limit.ts';
import { hostKeyBytes, sealer, secretContext, type Sealer } from './seal.ts';
import { openSqliteStore, StoreError, type Synchronous } from './sqlite-store.ts';
import type { Store } from './store.ts';
import { defaultLockLimit, lockLimitMax } from './throttle.ts';

export interface HostOptions {
  /** A SQLite file, or ':memory:' (the default) for the in-process memory store. Ignored when `store` is given. */
  readonly dbPath?: string;
  readonly store?: Store;
  /** 32 bytes. Default: the key file `keyPath` (default `<dbPath>.key`), created 0600 with a new database; a random key for memory. */
  readonly hostKey?: Uint8Array;
  readonly keyPath?: string;
  readonly now?: () => number;
  readonly random?: Random;
  /** Consecutive failures that lock a device (default 10, at most 100). */
  readonly lockLimit?: number;
  readonly challengeTtlMs?: number;
  /** Challenges per account and per device per window (default `issueLimitsDefault`). */
  readonly issueLimits?: IssueLimits;
  /** The scrypt cost of new password hashes (default `passwordCostDefault`). */
  readonly passwordCost?: ScryptCost;
  /** How long audit entries are kept (default `auditKeepMsDefault`, 400 days; `auditKeepMsMin`..`auditKeepMsMax`). */
  readonly auditKeepMs?: number;
  readonly synchronous?: Synchronous;
}

/** The host key's check value: a MAC of a fixed text, stored in the database, compared on every open. */
export const keyCheckName = 'host-key-check';
export const keyCheckBytes = 16;

export function keyCheckValue(hostKey: Uint8Array): Uint8Array {
  return hmac(sha256, hostKey, utf8ToBytes('dscplus-host:key-check')).slice(0, keyCheckBytes);
}

/**
 * Refuse a host key that is not the database's (before anything is written with it), and record the check
 * value in a database that has none yet: a new one, or one from before check values, whose sealed rows
 * must then open under this key.
 */
function checkHostKey(store: Store, hostKey: Uint8Array, seal: Sealer, where: string): Promise<void> {
  const expected = keyCheckValue(hostKey);
  return store.transaction(async (tx) => {
    const stored = await tx.meta(keyCheckName);
    if (stored) {
      if (!equalBytes(stored, expected)) throw new HostKeyError(`the host key (DSC_HOST_KEY or the key file) is not the key of ${where}: its key check value differs; nothing was changed`);
      return;
    }
    const first = (await tx.serials())[0];
    if (first !== undefined) {
      try {
        seal.open(secretContext(first), (await tx.device(first))!.sealedSecret).fill(0);
      } catch {
        throw new HostKeyError(`the host key (DSC_HOST_KEY or the key file) does not open the secrets of ${where}; nothing was changed`);
      }
    }
    await tx.putMeta(keyCheckName, expected);
  });
}

function hmacKeyFrom(hostKey: Uint8Array): Uint8Array {
  return hmac(sha256, hostKey, utf8ToBytes('dscplus-host:temp-code-mac'));
}

/**
 * Open the verifier.
 * @example
 * const host = await openHost({ dbPath: './.dsc/host.sqlite' });
 * const { challenge } = await host.challenge({ user: 'trader1' });
 * await host.verify({ user: 'trader1', challenge, response: '12345678' }); // { ok: false, reason: 'wrong response' }
 * await host.close();
 */
export async function openHost(options: HostOptions): Promise<Host> {
  const now = options.now ?? Date.now;
  const random: Random = options.random ?? pooledRandom();
  const lockLimit = options.lockLimit ?? defaultLockLimit;
  if (!Number.isSafeInteger(lockLimit) || lockLimit < 1 || lockLimit > lockLimitMax) {
    throw new RangeError(`"lockLimit" expected 1..${lockLimitMax}, got ${lockLimit}`);
  }
  const ttlMs = options.challengeTtlMs ?? challengeTtlMs;
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > challengeTtlMaxMs) throw new RangeError(`"challengeTtlMs" expected 1..${challengeTtlMaxMs}, got ${ttlMs}`);
  const auditKeepMs = options.auditKeepMs ?? auditKeepMsDefault;
  if (!Number.isSafeInteger(auditKeepMs) || auditKeepMs < auditKeepMsMin || auditKeepMs > auditKeepMsMax) {
    throw new RangeError(`"auditKeepMs" expected ${auditKeepMsMin}..${auditKeepMsMax} ms (1 day to 100 years), got ${auditKeepMs}`);
  }
  const dbPath = options.dbPath ?? ':memory:';
  let hostKey = options.hostKey;
  if (!hostKey) {
    // An in-memory store lives as long as the process: an ephemeral key is all it needs.
    // A new key only with a new database: a missing key file beside an existing database is an error, not a
    // reason to mint a key that cannot open anything already sealed.
    hostKey = options.store || dbPath === ':memory:' ? random(32) : loadOrCreateKeyFile(options.keyPath ?? keyPathFor(dbPath), !existsSync(dbPath));
  }
  const store = options.store ?? (dbPath === ':memory:' ? memoryStore() : openSqliteStore(dbPath, { synchronous: options.synchronous ?? 'NORMAL' }));
  const seal = sealer(hostKey, random);
  try {
    await checkHostKey(store, hostKey, seal, options.store ? (options.dbPath ?? 'this store') : dbPath);
  } catch (error) {
    await store.close();
    throw error;
  }
  const core: HostCore = {
    store, sealer: seal, macKey: hmacKeyFrom(hostKey), now, random, lockLimit, challengeTtlMs: ttlMs,
    issueLimits: options.issueLimits ?? issueLimitsDefault, passwordCost: options.passwordCost ?? passwordCostDefault,
    materials: new MaterialCache(seal), auditKeepMs, auditWrites: { count: 0 },
  };
  return new Host(core);
}

export interface HostFileOptions {
  /** The database file (absolute, or relative to the process's working folder). */
  readonly dbPath: string;
  /** How messages name the database (what the user typed), default `dbPath`. */
  readonly shownAs?: string;
  /** The host key as hex (DSC_HOST_KEY); when absent or empty, the key file beside the database. */
  readonly hostKeyHex?: string;
  /** Whether this command may create the database (and its key file); others refuse a missing one. */
  readonly create: boolean;
}

/** An open host database file. A new one exists only in memory until `publish`. */
export interface HostFile {
  readonly host: Host;
  /**
   * Write a new database (and its new key file) to disk, exclusively: `raced` when another process created
   * it meanwhile (run the command again on theirs). Does nothing for an existing database.
   */
  publish(): 'published' | 'raced' | 'existing';
  close(): Promise<void>;
}

/**
 * Open a host database file the way `dsc host` does: the key from DSC_HOST_KEY's hex or the key file beside
 * the database. A missing database is created only by a command that may create it, and only when that
 * command succeeds: it is built in memory and published with its key file by `publish` (a refused first
 * `enroll` leaves no file behind). A zero-length or foreign file is refused, never initialised.
 * @example
 * const file = await openHostFile({ dbPath: '.dsc/host.sqlite', hostKeyHex: process.env.DSC_HOST_KEY, create: true });
 * try { await file.host.enroll(...); file.publish(); } finally { await file.close(); }
 */
export async function openHostFile(options: HostFileOptions): Promise<HostFile> {
  const { dbPath } = options;
  const shown = options.shownAs ?? dbPath;
  const keyPath = keyPathFor(dbPath);
  const envKey = options.hostKeyHex !== undefined && options.hostKeyHex !== '' ? parseHostKeyHex(options.hostKeyHex, 'DSC_HOST_KEY') : undefined;
  let size: number | undefined;
  try {
    size = statSync(dbPath).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StoreError(`database ${shown} cannot be read: ${(error as NodeJS.ErrnoException).code}`);
  }
  if (size === 0) throw new StoreError(`database ${shown} is an empty file (0 bytes), not a host database; nothing was changed (remove it to start afresh)`);
  if (size !== undefined) {
    let hostKey = envKey;
    if (!hostKey) {
      if (!existsSync(keyPath)) throw new StoreError(`the database ${shown} exists but its key file ${keyPath} does not (set DSC_HOST_KEY)`);
      hostKey = loadOrCreateKeyFile(keyPath, false);
    }
    try {
      const host = await openHost({ store: openSqliteStore(dbPath, { create: false }), hostKey, dbPath: shown });
      return { host, publish: () => 'existing', close: () => host.close() };
    } finally {
      hostKey.fill(0);
    }
  }
  if (!options.create) throw new StoreError(`no host database at ${shown} (enroll or import a device first)`);
  // A key file left without its database (a crash between the two) is used again, never replaced.
  const newKey = !envKey && !existsSync(keyPath);
  const hostKey = envKey ?? (newKey ? new Uint8Array(randomBytes(hostKeyBytes)) : loadOrCreateKeyFile(keyPath, false));
  const store = openSqliteStore(':memory:');
  const host = await openHost({ store, hostKey: hostKey.slice(), dbPath: shown });
  return {
    host,
    publish() {
      const bytes = store.serialize();
      mkdirSync(dirname(dbPath), { recursive: true });
      try {
        if (newKey) writeFileAtomic(keyPath, `${bytesToHex(hostKey)}\n`, { exclusive: true, mode: secretFileMode });
        writeFileAtomic(dbPath, bytes, { exclusive: true, mode: secretFileMode });
        return 'published';
      } catch (error) {
        if (error instanceof FileExistsError) return 'raced';
        throw error;
      } finally {
        hostKey.fill(0);
      }
    },
    close() {
      hostKey.fill(0);
      return host.close();
    },
  };
}
