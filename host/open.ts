/**
 * Opening the verifier: the store (SQLite file, or memory), the host key (given, from DSC_HOST_KEY's hex, or
 * the key file beside the database) and the limits.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { Random } from './challenge.ts';
import type { HostCore } from './core.ts';
import { keyPathFor, loadOrCreateKeyFile, parseHostKeyHex } from './host-key.ts';
import { Host } from './host.ts';
import { challengeTtlMaxMs, challengeTtlMs } from './issue.ts';
import { MaterialCache } from './match.ts';
import { memoryStore } from './memory-store.ts';
import { pooledRandom } from './random.ts';
import { sealer } from './seal.ts';
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
  readonly synchronous?: Synchronous;
}

function hmacKeyFrom(hostKey: Uint8Array): Uint8Array {
  return hmac(sha256, hostKey, utf8ToBytes('dscplus-host:temp-code-mac'));
}

/**
 * Open the verifier.
 * @example
 * const host = openHost({ dbPath: './.dsc/host.sqlite' });
 * const { challenge } = host.challenge({ user: 'trader1' });
 * host.verify({ user: 'trader1', challenge, response: '12345678' }); // { ok: false, reason: 'wrong response' }
 * host.close();
 */
export function openHost(options: HostOptions): Host {
  const now = options.now ?? Date.now;
  const random: Random = options.random ?? pooledRandom();
  const lockLimit = options.lockLimit ?? defaultLockLimit;
  if (!Number.isSafeInteger(lockLimit) || lockLimit < 1 || lockLimit > lockLimitMax) {
    throw new RangeError(`"lockLimit" expected 1..${lockLimitMax}, got ${lockLimit}`);
  }
  const ttlMs = options.challengeTtlMs ?? challengeTtlMs;
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > challengeTtlMaxMs) throw new RangeError(`"challengeTtlMs" expected 1..${challengeTtlMaxMs}, got ${ttlMs}`);
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
  const core: HostCore = {
    store, sealer: seal, macKey: hmacKeyFrom(hostKey), now, random, lockLimit, challengeTtlMs: ttlMs,
    materials: new MaterialCache(seal),
    audit: (entry) => store.audit({ atMs: now(), ...entry }),
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

/**
 * Open a host database file the way `dsc host` does: the key from DSC_HOST_KEY's hex or the key file beside
 * the database (created 0600 only with a new database, and only by a command that may create it).
 * @example
 * const host = openHostFile({ dbPath: '.dsc/host.sqlite', hostKeyHex: process.env.DSC_HOST_KEY, create: false });
 */
export function openHostFile(options: HostFileOptions): Host {
  const { dbPath } = options;
  const shown = options.shownAs ?? dbPath;
  const isNew = !existsSync(dbPath);
  if (isNew && !options.create) throw new StoreError(`no host database at ${shown} (enroll or import a device first)`);
  let hostKey: Uint8Array;
  if (options.hostKeyHex !== undefined && options.hostKeyHex !== '') {
    hostKey = parseHostKeyHex(options.hostKeyHex, 'DSC_HOST_KEY');
  } else {
    const keyPath = keyPathFor(dbPath);
    if (!isNew && !existsSync(keyPath)) throw new StoreError(`the database ${shown} exists but its key file ${keyPath} does not (set DSC_HOST_KEY)`);
    mkdirSync(dirname(dbPath), { recursive: true });
    hostKey = loadOrCreateKeyFile(keyPath, isNew);
  }
  try {
    return openHost({ dbPath, hostKey });
  } finally {
    hostKey.fill(0);
  }
}
