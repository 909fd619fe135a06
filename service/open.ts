/**
 * Opening the verifier for the service: a PostgreSQL database (host/pg-open.ts), or the SQLite store with the durability the operator chose (its group
 * commit batches the requests that arrive together; its counts feed /metrics) and the host key resolved as
 * `dsc host` resolves it: DSC_HOST_KEY's hex, else the key file beside the database.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openHost, openSqliteStore, StoreError, type LoginHost, type Store } from '../host/index.ts';
import { keyPathFor, loadOrCreateKeyFile, parseHostKeyHex } from '../host/host-key.ts';
import type { Synchronous } from '../host/sqlite-store.ts';
import type { HostOptions } from '../host/open.ts';
import { isPostgresUrl } from '../host/pg-url.ts';

export interface ServiceHost {
  readonly host: LoginHost;
  /** The store under the host: its commit counts for /metrics. */
  readonly store: Store;
  close(): Promise<void>;
}

export interface OpenServiceHostOptions {
  readonly dbPath: string;
  readonly shownAs?: string;
  readonly hostKeyHex?: string;
  readonly synchronous: Synchronous;
  /** Create an empty database (and its key file) when none exists; otherwise a missing one is refused. */
  readonly create: boolean;
  /** Tests and the bench: a cheaper password hash, wider issue limits (the defaults otherwise). */
  readonly hostOptions?: Pick<HostOptions, 'passwordCost' | 'issueLimits' | 'lockLimit' | 'challengeTtlMs' | 'auditKeepMs'>;
  /** With a postgres:// `dbPath`: the host key file (when `hostKeyHex` is not given). */
  readonly keyFile?: string;
  /** Where a PostgreSQL password is looked up (PGPASSWORD, PGPASSFILE; default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The store's bounds, smaller than the defaults for tests: `queueCallsMax` and `busyTimeoutMs` (SQLite),
   * `connectionsMax`, `waitingCallsMax` and `transactionTimeoutMs` (PostgreSQL); and `batchCallsMax` (SQLite),
   * which the bench sets to 1 to measure the service without group commit.
   */
  readonly storeLimits?: StoreLimits;
}

export interface StoreLimits {
  readonly queueCallsMax?: number;
  readonly batchCallsMax?: number;
  readonly busyTimeoutMs?: number;
  readonly connectionsMax?: number;
  readonly waitingCallsMax?: number;
  readonly transactionTimeoutMs?: number;
}

/**
 * @example
 * const opened = await openServiceHost({ dbPath: '.dsc/host.sqlite', synchronous: 'FULL', create: false });
 */
export async function openServiceHost(options: OpenServiceHostOptions): Promise<ServiceHost> {
  const { dbPath } = options;
  if (isPostgresUrl(dbPath)) {
    const { openPgHost } = await import('../host/pg-open.ts');
    const { queueCallsMax: _q, busyTimeoutMs: _b, batchCallsMax: _c, ...pgLimits } = options.storeLimits ?? {};
    const opened = await openPgHost({
      url: dbPath, create: options.create, ...(options.env && { env: options.env }), ...(options.hostOptions && { hostOptions: options.hostOptions }),
      ...(options.hostKeyHex !== undefined && { hostKeyHex: options.hostKeyHex }), ...(options.keyFile !== undefined && { keyFile: options.keyFile }),
      storeOptions: pgLimits,
    });
    // The service has no moment of success to wait for: a key it minted (--create) is its key file at once.
    opened.publish();
    return opened;
  }
  const shown = options.shownAs ?? dbPath;
  const isNew = !existsSync(dbPath);
  if (isNew && !options.create) throw new StoreError(`no host database at ${shown} (enroll a device with dsc host enroll first, or pass --create)`);
  let hostKey: Uint8Array;
  if (options.hostKeyHex !== undefined && options.hostKeyHex !== '') {
    hostKey = parseHostKeyHex(options.hostKeyHex, 'DSC_HOST_KEY');
  } else {
    const keyPath = keyPathFor(dbPath);
    if (!isNew && !existsSync(keyPath)) throw new StoreError(`the database ${shown} exists but its key file ${keyPath} does not (set DSC_HOST_KEY)`);
    mkdirSync(dirname(dbPath), { recursive: true });
    hostKey = loadOrCreateKeyFile(keyPath, isNew);
  }
  const { queueCallsMax, busyTimeoutMs, batchCallsMax } = options.storeLimits ?? {};
  const store: Store = openSqliteStore(dbPath, {
    synchronous: options.synchronous, ...(queueCallsMax !== undefined && { queueCallsMax }), ...(busyTimeoutMs !== undefined && { busyTimeoutMs }),
    ...(batchCallsMax !== undefined && { batchCallsMax }),
  });
  try {
    const host = await openHost({ ...options.hostOptions, store, hostKey });
    return { host, store, close: () => host.close() };
  } catch (error) {
    await store.close();
    throw error;
  } finally {
    hostKey.fill(0);
  }
}
