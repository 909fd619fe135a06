/**
 * Opening the verifier on a PostgreSQL database, as `dsc host … --db postgres://…` and `dsc host serve` do.
 * There is no database file for a key file to sit beside, so the host key comes from DSC_HOST_KEY (hex) or a
 * key file named with `--host-key-file` (mode 0600, created with a new database by a command that may create one).
 * The database's key check value refuses a wrong key before anything is written with it (host/open.ts).
 *
 * A new key is published with the command's success, as a new SQLite database is: until `publish`, it waits in
 * a pending file beside the key file (`FILE.pending-PID`, mode 0600, so a crash between the command's commit and
 * the publication loses no key), and `close` without `publish` removes the pending file and takes back the key
 * check value the open recorded (only while no device is enrolled: nobody else knows this key). A refused first
 * enrolment thus leaves the schema (created in the database the operator named) and nothing else.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import { FileExistsError, secretFileMode, writeFileAtomic } from '../platform/atomic-file.ts';
import { HostKeyError, loadOrCreateKeyFile, parseHostKeyHex } from './host-key.ts';
import type { Host } from './host.ts';
import { keyCheckName, keyCheckValue, openHost, type HostOptions } from './open.ts';
import { openPgStore, type PgStore, type PgStoreOptions } from './pg-store.ts';
import { checkPostgresUrl } from './pg-url.ts';
import { hostKeyBytes } from './seal.ts';
import type { Store } from './store.ts';

export interface PgHostOptions {
  /** The database's URL, without a password. */
  readonly url: string;
  /** How messages name the option the URL came from. */
  readonly option?: string;
  /** DSC_HOST_KEY's value; when absent or empty, `keyFile`. */
  readonly hostKeyHex?: string;
  /** The key file's path (absolute, or relative to the working folder). */
  readonly keyFile?: string;
  /** Whether this command may create the schema in an empty database, and a new key file with it. */
  readonly create: boolean;
  readonly hostOptions?: Pick<HostOptions, 'passwordCost' | 'issueLimits' | 'lockLimit' | 'auditKeepMs'>;
  /** Where PGPASSWORD / PGPASSFILE are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** The store's bounds (tests shrink them; the defaults are in host/pg-store.ts). */
  readonly storeOptions?: Pick<PgStoreOptions, 'connectionsMax' | 'waitingCallsMax' | 'transactionTimeoutMs'>;
}

export interface PgHost {
  readonly host: Host;
  readonly store: PgStore;
  /** Publish the key file of a key this open minted (the command succeeded); 'existing' when none was minted. */
  publish(): 'published' | 'existing';
  /** Close; a minted key not published is taken back (its pending file, its key check value). */
  close(): Promise<void>;
}

/** A new key, not yet in its key file: written to `pending` until the command succeeds. */
interface Minted {
  readonly path: string;
  readonly pending: string;
  readonly hex: string;
}

/** Whether the database holds no host yet: no key check value and no device. */
async function isFresh(store: Store): Promise<boolean> {
  return store.transaction(async (tx) => (await tx.meta(keyCheckName)) === undefined && (await tx.serials()).length === 0);
}

/** Key files other commands minted and have not yet published (`FILE.pending-PID`). */
function pendingKeyFiles(path: string): string[] {
  const prefix = `${basename(path)}.pending-`;
  try {
    return readdirSync(dirname(path)).filter((name) => name.startsWith(prefix));
  } catch {
    return [];
  }
}

function creatingElsewhere(shown: string, path: string): HostKeyError {
  return new HostKeyError(`another command is creating ${shown} with its own key at this moment; nothing was changed: run this one again when it has finished (its key file ${path} appears when it succeeds)`);
}

async function hostKeyFor(options: PgHostOptions, store: Store, shown: string): Promise<{ key: Uint8Array; minted?: Minted }> {
  if (options.hostKeyHex !== undefined && options.hostKeyHex !== '') return { key: parseHostKeyHex(options.hostKeyHex, 'DSC_HOST_KEY') };
  const path = options.keyFile!;
  try {
    return { key: loadOrCreateKeyFile(path, false) };
  } catch (error) {
    if (!(error instanceof HostKeyError) || !/does not exist/.test(error.message)) throw error;
  }
  if (!options.create) throw new HostKeyError(`host key file ${path} does not exist (give the key file of ${shown}, or set DSC_HOST_KEY)`);
  // A new key only for a database that has none: a missing key file is never a reason to mint a key that
  // cannot open what is already sealed.
  if (!(await isFresh(store))) {
    if (pendingKeyFiles(path).length > 0) throw creatingElsewhere(shown, path);
    throw new HostKeyError(`host key file ${path} does not exist, and ${shown} already has a host key (give its key file, or set DSC_HOST_KEY)`);
  }
  const key = new Uint8Array(randomBytes(hostKeyBytes));
  const minted: Minted = { path, pending: `${path}.pending-${process.pid}`, hex: `${bytesToHex(key)}\n` };
  writeFileAtomic(minted.pending, minted.hex, { exclusive: true, mode: secretFileMode });
  return { key, minted };
}

/**
 * @example
 * const opened = await openPgHost({ url: 'postgres://dsc@127.0.0.1:5432/dsc', hostKeyHex: process.env.DSC_HOST_KEY, create: false });
 * try { await opened.host.devices({ user: 'trader1' }); } finally { await opened.close(); }
 */
export async function openPgHost(options: PgHostOptions): Promise<PgHost> {
  const option = options.option ?? '--db';
  const url = checkPostgresUrl(options.url, option);
  if ((options.hostKeyHex === undefined || options.hostKeyHex === '') && options.keyFile === undefined) {
    throw new HostKeyError(`a PostgreSQL database has no key file beside it: set DSC_HOST_KEY (${hostKeyBytes * 2} hex digits) or give --host-key-file PATH`);
  }
  const store = await openPgStore(url, { ...options.storeOptions, create: options.create, ...(options.env && { env: options.env }) });
  const shown = new URL(url).toString();
  let hostKey: Uint8Array | undefined;
  let minted: Minted | undefined;
  try {
    ({ key: hostKey, minted } = await hostKeyFor(options, store, shown));
    const check = keyCheckValue(hostKey);
    const host = await openHost({ ...options.hostOptions, store, hostKey, dbPath: shown });
    let published = minted === undefined;
    return {
      host,
      store,
      publish() {
        if (published) return 'existing';
        try {
          writeFileAtomic(minted!.path, minted!.hex, { exclusive: true, mode: secretFileMode });
        } catch (error) {
          if (!(error instanceof FileExistsError)) throw error;
          throw new HostKeyError(`host key file ${minted!.path} appeared while this command ran; the key of ${shown} is in ${minted!.pending}: compare the two and keep that one`);
        }
        published = true;
        rmSync(minted!.pending, { force: true });
        return 'published';
      },
      async close() {
        // Taken back only while no device is enrolled under it; otherwise the pending file stays with the data it opens.
        if (!published && (await store.forgetMetaOfEmpty(keyCheckName, check).catch(() => false))) rmSync(minted!.pending, { force: true });
        await host.close();
      },
    };
  } catch (error) {
    await store.close();
    // The open failed before this key's check value was recorded (or with it refused): nothing sealed with it.
    if (minted) rmSync(minted.pending, { force: true });
    // Refused by a check value recorded since this open found the database empty: another command minted its key.
    if (minted && error instanceof HostKeyError) throw creatingElsewhere(shown, minted.path);
    throw error;
  } finally {
    hostKey?.fill(0);
  }
}
