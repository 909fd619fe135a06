/**
 * The PostgreSQL store (node-postgres), for several verifier instances on one database. Every transaction runs
 * at REPEATABLE READ on a connection of its own from a bounded pool, and every row whose value decides a race
 * (the challenge, the device, the account, a rate window, a temporary code, the issued-challenge bitmap) is read
 * `FOR UPDATE`: a second transaction on that row waits at the read, and when the first one changed it,
 * PostgreSQL aborts the second (40001: its snapshot cannot move); `transaction` re-runs it, a bounded number of
 * times, on a fresh snapshot. Inserts race the same way through unique keys (ON CONFLICT on a row another
 * transaction inserted is a 40001 too). What holds for one SQLite writer thus holds across instances: a
 * challenge is consumed once, failures count toward one lockout.
 *
 * Not SERIALIZABLE: its predicate locks cover whole index pages, so two logins of different users conflict on
 * the sessions index page they share, and under load most verifications were re-run for such false alarms
 * (measured in docs/service.md). The one decision over a set of rows, a user's withdrawals
 * summed against a limit, writes the user's account row first (host/pg-tx.ts), so two such transactions
 * conflict on that row instead of both passing the limit (write skew).
 */
import pg from 'pg';
import { migratePostgres } from './pg-schema.ts';
import { lockingStatements, pgTx, type Query } from './pg-tx.ts';
import { lookUpPassword } from './pgpass.ts';
import { StoreError } from './sqlite-store.ts';
import { StoreRefusal, type Store, type StoreTx } from './store.ts';

/** Connections per instance: the most transactions one instance runs at once (others wait for a connection). */
export const poolConnectionsMax = 10;
/**
 * How long one transaction may take, from the call to its commit, re-runs and the wait for a connection
 * included; beyond it, it is refused ('busy', nothing of it committed). The server enforces it on every
 * statement (`SET LOCAL statement_timeout` and `lock_timeout` to what is left of it at BEGIN), and no statement
 * starts after it, so a transaction stuck on a row lock another client holds ends within twice this bound.
 */
export const transactionTimeoutMs = 10_000;
/** A connection idle inside a transaction this long is ended by the server (a stuck instance frees its locks). */
export const idleInTransactionMaxMs = 30_000;
/** Transactions waiting for a connection at most; beyond it one is refused at once ('busy') and writes nothing. */
export const waitingCallsMax = 4_096;
/** Re-runs of a transaction after a serialization failure or deadlock, after the first run. */
export const serializationRetriesMax = 10;
/** The backoff before re-run n is random in [0, min(retryBackoffMaxMs, retryBackoffBaseMs × 2^n)] ms. */
export const retryBackoffBaseMs = 2;
export const retryBackoffMaxMs = 100;

/** Advisory locks a re-run queues on at most (one per row its failed run locked). */
export const retryLanesMax = 16;
/** The lane of a re-run whose failed run locked no row (a conflict on what it read, not on what it locked). */
const anyRowLane = 'dsc:any-row';

/** SQLSTATEs after which running the whole transaction again is safe and may succeed. */
// A unique violation under REPEATABLE READ is a race lost to a transaction that inserted the same key and
// committed after our snapshot (two enrolments of one serial): the re-run's fresh snapshot sees that row and
// gives the refusal a sequential duplicate gets. A unique violation that persists is rethrown as it is.
const retryableCodes = new Set(['40001', '40P01', '23505']); // serialization_failure, deadlock_detected, unique_violation
/** SQLSTATEs of a statement cancelled by the transaction's time limit: statement_timeout, lock_timeout. */
const timeoutCodes = new Set(['57014', '55P03']);

/**
 * A transaction still conflicted after `serializationRetriesMax` re-runs; nothing of it was committed. A refusal
 * of kind 'busy', as when too many calls wait: the caller may try again later (a service answers 503).
 */
export class StoreConflictError extends StoreRefusal {
  override name = 'StoreConflictError';
  constructor(message: string) {
    super('busy', message);
  }
}

/** A transaction ran out of its time limit (`transactionTimeoutMs`); nothing of it was committed. */
export class StoreTimeoutError extends StoreRefusal {
  override name = 'StoreTimeoutError';
  constructor(message: string) {
    super('busy', message);
  }
}

export type PgStore = Store & {
  /** Re-runs after serialization failures or deadlocks since the store was opened (for tests and metrics). */
  readonly retries: () => number;
  /**
   * Delete the meta row `key` if it still holds `value` and no device is enrolled (host/pg-open.ts: a refused
   * first command takes back the key check value it recorded). Whether it was deleted.
   */
  readonly forgetMetaOfEmpty: (key: string, value: Uint8Array) => Promise<boolean>;
};

export interface PgStoreOptions {
  /** Create the schema in an empty database (default true); otherwise an empty one is refused. */
  readonly create?: boolean;
  /** Connections in the pool (default `poolConnectionsMax`). */
  readonly connectionsMax?: number;
  /** Transactions waiting for a connection at most (default `waitingCallsMax`). */
  readonly waitingCallsMax?: number;
  /** One transaction's time limit (default `transactionTimeoutMs`). */
  readonly transactionTimeoutMs?: number;
  /** The environment the password is looked up in (PGPASSWORD, PGPASSFILE, HOME; default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Hears why a password file was skipped (default console.warn). */
  readonly warn?: (message: string) => void;
}

// BIGINT (OID 20) arrives as a string by default, since it may exceed 2^53; every BIGINT here is a millisecond
// time, a counter or an id, so it is parsed to a number, and one that is not a safe integer is a broken row.
const int8Oid = 20;
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new StoreError(`a BIGINT column holds ${text}, beyond the safe integers`);
  return value;
}
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8Oid && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** The URL as messages show it: never its password. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

/**
 * A client that closes its socket when connecting fails. node-postgres leaves it open when the failure is on
 * our side (no password to give): the server would then hold that half-authenticated connection, and block a
 * DROP DATABASE, until its authentication_timeout.
 */
class ClosingClient extends pg.Client {
  constructor(config?: pg.ClientConfig) {
    super(config);
    const connect = (callback: (error: Error | undefined) => void): void =>
      pg.Client.prototype.connect.call(this, (error: Error | undefined) => {
        if (error) (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        callback(error);
      });
    // pg-pool connects with a callback; the promise form is not used on a pooled client.
    Object.defineProperty(this, 'connect', { value: connect });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Open (creating the schema when the database is empty) the store in the PostgreSQL database at `url`. The
 * password, when one is needed, comes from PGPASSWORD or ~/.pgpass, as for libpq.
 * @example
 * const store = await openPgStore('postgres://dsc@127.0.0.1:5432/dsc');
 * await store.transaction(async (tx) => tx.serials()); // []
 * await store.close();
 */
export async function openPgStore(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
  const where = shownUrl(url);
  // Where the connection goes once the URL, PG* variables and defaults are read (node-postgres's own parsing):
  // what the password file matches. The pool gets these parts rather than the URL, because a URL's empty
  // password would override the password function below.
  const target = new pg.Client({ connectionString: url });
  const passTarget = { host: target.host, port: target.port, database: target.database ?? target.user ?? '', user: target.user ?? '' };
  const env = options.env ?? process.env;
  const timeoutMs = options.transactionTimeoutMs ?? transactionTimeoutMs;
  const waitingMax = options.waitingCallsMax ?? waitingCallsMax;
  for (const [name, value] of [['transactionTimeoutMs', timeoutMs], ['waitingCallsMax', waitingMax]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`"${name}" expected a positive integer, got ${value}`);
  }
  const timedOut = (): StoreTimeoutError => new StoreTimeoutError(`a transaction on ${where} took more than ${timeoutMs} ms (waiting for a lock another client holds, or for the server); nothing of it was committed`);
  const pool = new pg.Pool({
    host: target.host,
    port: target.port,
    user: target.user,
    database: passTarget.database,
    ssl: target.ssl,
    // Asked only when the server wants a password (never logged, never in a message).
    password: async () => {
      // A library caller's URL may carry one (the CLI refuses that: host/pg-url.ts).
      if (typeof target.password === 'string' && target.password !== '') return target.password;
      const password = lookUpPassword(passTarget, env, options.warn ?? console.warn);
      if (password === undefined) throw new StoreError(`database ${where} asks for a password for ${passTarget.user}: set PGPASSWORD or add a line to ~/.pgpass (PGPASSFILE), as for psql`);
      return password;
    },
    max: options.connectionsMax ?? poolConnectionsMax,
    connectionTimeoutMillis: timeoutMs,
    // Outside a transaction too: a re-run's wait for its advisory lock.
    lock_timeout: timeoutMs,
    idle_in_transaction_session_timeout: idleInTransactionMaxMs,
    application_name: 'dsc-host',
    types,
    Client: ClosingClient as unknown as new () => pg.ClientBase,
  });
  // An idle connection the server dropped (a restart) must not crash the process: the pool replaces it.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    let broken: Error | undefined;
    const onError = (error: Error): void => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await migratePostgres(client, where, options.create ?? true);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    if (error instanceof StoreError) throw error;
    const { code, message } = error as { code?: string; message: string };
    throw new StoreError(`database ${where} cannot be opened: ${message}${code ? ` (${code})` : ''}`);
  }

  let retries = 0;
  let closed = false;
  let commits = 0;
  let waiting = 0;
  const inFlight = new Set<Promise<unknown>>();
  /**
   * One run of `fn` in one REPEATABLE READ transaction. A re-run first queues, outside any transaction, on session
   * advisory locks named after the rows the failed run locked (`lanes`), so re-runs contending for one row
   * go one after another, each taking its snapshot after the previous one committed: they wait instead of
   * aborting each other again. Returns the rows this run locked, for the next lanes when it fails.
   */
  const runOnce = async <T>(fn: (tx: StoreTx) => Promise<T>, lanes: readonly string[], locked: Set<string>, deadline: number): Promise<T> => {
    waiting++;
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      // node-postgres's own "timeout exceeded when trying to connect": every connection is busy.
      if (/timeout/i.test((error as Error).message) && (error as { code?: string }).code === undefined) throw timedOut();
      throw error;
    } finally {
      waiting--;
    }
    let broken: Error | undefined;
    // A connection the server ends mid-transaction (a restart, an administrator) is reported as an event as
    // well as a failed query; unheard, the event would end the process. The query's error decides.
    const onError = (error: Error): void => {
      broken = error;
    };
    client.on('error', onError);
    const state = { open: true, retryable: undefined as Error | undefined, timedOut: false };
    // Every statement of the transaction goes through here: a serialization failure seen by any of them
    // decides, even when `fn` caught it (the transaction is aborted anyway and every later statement fails).
    const query: Query = async (config) => {
      if (!state.open) throw new Error('store: a transaction handle was used after its transaction ended');
      if (Date.now() >= deadline) {
        state.timedOut = true;
        throw timedOut();
      }
      if (config.name !== undefined && lockingStatements.has(config.name)) locked.add(`${config.name}:${JSON.stringify(config.values)}`);
      try {
        return await client.query(config);
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        if (retryableCodes.has(code)) state.retryable ??= error as Error;
        if (timeoutCodes.has(code)) state.timedOut = true;
        throw error;
      }
    };
    try {
      // Sorted, so two re-runs wanting the same lanes never wait for each other in a circle.
      for (const lane of [...lanes].sort()) {
        // Each wait is bounded by the session's lock_timeout; none starts after the transaction's limit.
        if (Date.now() >= deadline) throw timedOut();
        await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lane]);
      }
      const leftMs = Math.floor(deadline - Date.now());
      if (leftMs < 1) throw timedOut();
      // One round trip: the transaction, and its statements bounded by what is left of its time.
      await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ; SET LOCAL statement_timeout = ${leftMs}; SET LOCAL lock_timeout = ${leftMs}`);
      let result: T;
      try {
        result = await fn(pgTx(query));
      } catch (error) {
        if (state.timedOut) throw timedOut();
        throw state.retryable ?? error;
      }
      state.open = false;
      try {
        await client.query('COMMIT');
      } catch (error) {
        if (timeoutCodes.has((error as { code?: string }).code ?? '')) throw timedOut();
        throw error;
      }
      commits++;
      return result;
    } catch (error) {
      state.open = false;
      // A re-run's advisory lock wait cancelled by lock_timeout.
      if (timeoutCodes.has((error as { code?: string }).code ?? '')) error = timedOut();
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw error;
    } finally {
      if (lanes.length > 0 && !broken) {
        await client.query('SELECT pg_advisory_unlock_all()').catch((e: Error) => {
          broken = e;
        });
      }
      client.off('error', onError);
      client.release(broken);
    }
  };

  return {
    kind: 'postgres',
    transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(new StoreRefusal('closed', 'the host database is closing: the call was not run'));
      if (waiting >= waitingMax) return Promise.reject(new StoreRefusal('busy', `busy: ${waitingMax} calls are already waiting for a database connection; retry later`));
      const running = runWithRetries(fn);
      inFlight.add(running);
      const forget = () => void inFlight.delete(running);
      running.then(forget, forget);
      return running;
    },
    stats: () => ({ commits, calls: commits, largestBatch: commits > 0 ? 1 : 0, queued: waiting, retries }),
    retries: () => retries,
    async forgetMetaOfEmpty(key, value) {
      const result = await pool.query('DELETE FROM meta WHERE key = $1 AND value = $2 AND NOT EXISTS (SELECT 1 FROM devices)', [key, value]);
      return result.rowCount === 1;
    },
    async close() {
      if (closed) return;
      closed = true;
      // Calls already accepted finish (and commit) first.
      await Promise.allSettled([...inFlight]);
      await pool.end();
    },
  };

  /** `runOnce`, re-run after a serialization failure or deadlock, at most `serializationRetriesMax` times. */
  async function runWithRetries<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const lanes = new Set<string>();
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const locked = new Set<string>();
      try {
        return await runOnce(fn, [...lanes], locked, deadline);
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        if (!retryableCodes.has(code)) throw error;
        if (Date.now() >= deadline) throw timedOut();
        if (attempt >= serializationRetriesMax) {
          if (code === '23505') throw error;
          throw new StoreConflictError(`a transaction on ${where} still conflicted after ${serializationRetriesMax} re-runs (${code}); nothing of it was committed`);
        }
        retries++;
        for (const row of locked) if (lanes.size < retryLanesMax) lanes.add(row);
        if (lanes.size === 0) lanes.add(anyRowLane);
        await sleep(Math.random() * Math.min(retryBackoffMaxMs, retryBackoffBaseMs * 2 ** attempt));
      }
    }
  }
}
