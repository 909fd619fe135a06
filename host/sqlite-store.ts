/**
 * The SQLite store (better-sqlite3). WAL journal so readers never block the writer and a killed process leaves
 * the last committed state; every state change runs in `BEGIN IMMEDIATE`, which takes the write lock up front,
 * so two processes verifying the same challenge are serialized and exactly one sees it open. better-sqlite3 is
 * synchronous; the asynchronous `transaction` queues calls and commits those waiting together in one batch
 * (host/transaction-queue.ts: group commit, bounded by `batchCallsMax` and `queueCallsMax`).
 */
import { chmodSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { migrations, newDatabasePageSizeBytes, schemaVersion } from './migrations.ts';
import { StoreRefusal, type AccountRow, type AuditEntry, type ChallengeRow, type ChallengeState, type DeviceRow, type SessionRow, type Store } from './store.ts';
import { batchCallsMax, checkQueueLimits, promisedTx, queueCallsMax, TransactionQueue, type BatchSteps, type SyncTx } from './transaction-queue.ts';

/**
 * How long a writer waits for another process's transaction before giving up: a transaction's time limit on
 * SQLite. Then the batch is refused ('busy') and nothing of it ran.
 */
export const busyTimeoutMs = 10_000;
/**
 * The wait for the write lock is sliced so that it does not stop the process: each try of BEGIN IMMEDIATE may
 * block in SQLite's own busy handler for at most this long (better-sqlite3 is synchronous), then the store
 * gives the event loop back for `busyRetryPauseMs` (a service keeps answering /healthz, /metrics and queuing
 * calls meanwhile) and tries again, until `busyTimeoutMs` has passed: at most busyTimeoutMs / busyRetryPauseMs
 * tries. Opening and migrating a database wait the whole `busyTimeoutMs` in one go (nothing else to serve yet).
 */
export const busyWaitSliceMs = 10;
export const busyRetryPauseMs = 5;

export type Synchronous = 'OFF' | 'NORMAL' | 'FULL';

/**
 * WAL pages between automatic checkpoints (SQLite's default is 1,000). A checkpoint fsyncs the WAL and the
 * database and copies pages back, inside whichever commit crosses the mark; every 4,000 pages (4 MiB at
 * 1 KiB pages) instead of every 1,000 cuts that cost per commit to under a third on the NORMAL bench (figures
 * in docs/bench.md). The WAL keeps its size between checkpoints, so commits overwrite it instead of growing the
 * file (an fsync that grows a file also writes its metadata, and costs more).
 */
export const walAutocheckpointPages = 4_000;
/** After a checkpoint, a WAL grown past this (a long reader held checkpoints back) is truncated to it. */
export const walSizeLimitBytes = 16 * 1024 * 1024;

/** The database file is not a dscplus host database, or is damaged. */
export class StoreError extends Error {
  override name = 'StoreError';
}

// Rows are read as arrays (better-sqlite3's raw mode) in this column order: building a keyed object per row
// costs more than half as much again as the lookup itself (measured: docs/bench.md).
const deviceColumns = `serial, model, profile, kind, suite, check_digit, sealed_secret, sealed_pin, key_version, counter,
  last_time_step, failures, locked, not_before_ms, expires_ms, enrolled_ms`;
type DeviceDb = [
  serial: string, model: string, profile: string, kind: string, suite: string, checkDigit: number, sealedSecret: Uint8Array,
  sealedPin: Uint8Array | null, keyVersion: number, counter: number, lastTimeStep: number, failures: number, locked: number,
  notBeforeMs: number, expiresMs: number | null, enrolledMs: number,
];
const challengeColumns = 'id, serial, user, challenge, purpose, sealed_payload, amount_usd, issued_ms, expires_ms, attempts, state';
type ChallengeDb = [
  id: number, serial: string, user: string, challenge: string, purpose: string, sealedPayload: Uint8Array | null,
  amountUsd: number | null, issuedMs: number, expiresMs: number, attempts: number, state: string,
];

function deviceFromDb(d: DeviceDb): DeviceRow {
  return {
    serial: d[0], model: d[1], profile: d[2] as DeviceRow['profile'], kind: d[3] as DeviceRow['kind'],
    suite: d[4], checkDigit: d[5] === 1, sealedSecret: d[6], sealedPin: d[7],
    keyVersion: d[8], counter: d[9], lastTimeStep: d[10], failures: d[11],
    locked: d[12] === 1, notBeforeMs: d[13], expiresMs: d[14], enrolledMs: d[15],
  };
}

function challengeFromDb(c: ChallengeDb): ChallengeRow {
  return {
    id: c[0], serial: c[1], user: c[2], challenge: c[3], purpose: c[4] as ChallengeRow['purpose'],
    sealedPayload: c[5], amountUsd: c[6], issuedMs: c[7], expiresMs: c[8], attempts: c[9], state: c[10] as ChallengeState,
  };
}

function checkOwnership(db: Database.Database, path: string, mustBeOurs: boolean): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === 0 && mustBeOurs) throw new StoreError(`database ${path} is not a dscplus host database (no schema version); nothing was changed`);
  if (version > schemaVersion) {
    throw new StoreError(`database ${path} has schema version ${version}, newer than this dsc (${schemaVersion}); upgrade dsc`);
  }
  if (version === 0) {
    // A non-empty database without our version is someone else's file: never write into it.
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
    if (tables.n > 0) throw new StoreError(`database ${path} is not a dscplus host database (it has tables but no schema version)`);
  }
}

function migrate(db: Database.Database): void {
  if ((db.pragma('user_version', { simple: true }) as number) === schemaVersion) return;
  db.transaction(() => {
    // Read again under the write lock: another process may have migrated since (two first `enroll`s at once).
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < schemaVersion; v++) db.exec(migrations[v]!);
    db.pragma(`user_version = ${schemaVersion}`);
  }).immediate();
}

/**
 * Open (creating when absent) a host database file, or `:memory:`.
 * @example
 * const store = openSqliteStore('./.dsc/host.sqlite');
 */
export type SqliteStore = Store & {
  /** The whole database as bytes (how a new database built in memory is published as a file). */
  serialize(): Uint8Array;
};

export function openSqliteStore(
  path: string,
  // `batchCallsMax` 1 turns group commit off (one transaction and one commit per call): a bench and diagnostic
  // knob, to show what group commit does on a given disk.
  options: { synchronous?: Synchronous; create?: boolean; busyTimeoutMs?: number; queueCallsMax?: number; batchCallsMax?: number } = {},
): SqliteStore {
  const limits = { batchCallsMax: options.batchCallsMax ?? batchCallsMax, queueCallsMax: options.queueCallsMax ?? queueCallsMax };
  checkQueueLimits(limits);
  let db: Database.Database;
  const isNew = path !== ':memory:' && !existsSync(path);
  try {
    db = new Database(path, { fileMustExist: options.create === false });
    // Owner-only, like the key file: the database holds no secret in the clear, but it does hold who logs in
    // when. SQLite gives the -wal and -shm files the database file's permissions.
    if (isNew) chmodSync(path, 0o600);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? busyTimeoutMs}`);
    // Check whose file this is before anything writes to it (switching to WAL rewrites the header).
    checkOwnership(db, path, options.create === false);
    // The page size only takes on an empty database, and must come before the switch to WAL (which writes
    // the header); on an existing database this pragma does nothing.
    if ((db.pragma('user_version', { simple: true }) as number) === 0) db.pragma(`page_size = ${newDatabasePageSizeBytes}`);
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`wal_autocheckpoint = ${walAutocheckpointPages}`);
    db.pragma(`journal_size_limit = ${walSizeLimitBytes}`);
    migrate(db);
    db.pragma(`busy_timeout = ${Math.min(busyWaitSliceMs, options.busyTimeoutMs ?? busyTimeoutMs)}`);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_')) throw new StoreError(`database ${path} cannot be opened: ${(error as Error).message} (${code})`);
    throw error;
  }

  const q = {
    userExists: db.prepare('SELECT 1 FROM assignments WHERE user = ? LIMIT 1').pluck(),
    devicesOf: db.prepare(`SELECT ${deviceColumns}, a.active FROM assignments a JOIN devices d USING (serial) WHERE a.user = ? ORDER BY d.enrolled_ms, d.serial`).raw(),
    usersOf: db.prepare('SELECT user FROM assignments WHERE serial = ? ORDER BY user').pluck(),
    activeAssignment: db.prepare('SELECT active FROM assignments WHERE user = ? AND serial = ?').pluck(),
    device: db.prepare(`SELECT ${deviceColumns} FROM devices WHERE serial = ?`).raw(),
    serials: db.prepare('SELECT serial FROM devices ORDER BY enrolled_ms, serial').pluck(),
    insertDevice: db.prepare(`INSERT INTO devices (serial, model, profile, kind, suite, check_digit, sealed_secret, sealed_pin, key_version,
      counter, last_time_step, failures, locked, not_before_ms, expires_ms, enrolled_ms)
      VALUES (@serial, @model, @profile, @kind, @suite, @checkDigit, @sealedSecret, @sealedPin, @keyVersion,
      @counter, @lastTimeStep, @failures, @locked, @notBeforeMs, @expiresMs, @enrolledMs)`),
    updateDeviceState: db.prepare(`UPDATE devices SET counter = @counter, last_time_step = @lastTimeStep, failures = @failures,
      locked = @locked, not_before_ms = @notBeforeMs WHERE serial = @serial`),
    updateDeviceKey: db.prepare('UPDATE devices SET sealed_secret = ?, sealed_pin = ?, key_version = key_version + 1 WHERE serial = ?'),
    assign: db.prepare('INSERT INTO assignments (user, serial, active) VALUES (?, ?, ?) ON CONFLICT (user, serial) DO UPDATE SET active = excluded.active'),
    // Positional parameters on the per-login statements: binding by name costs a property lookup each.
    insertChallenge: db.prepare(`INSERT INTO challenges (serial, user, challenge, purpose, sealed_payload, amount_usd, issued_ms, expires_ms, attempts, state)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (challenge, serial) DO NOTHING`),
    // A verification needs the challenge, its device and whether the user has a temporary code: one statement
    // instead of three (each statement costs a few µs, and a durable commit is an fsync plus this CPU).
    challengesFor: db.prepare(`SELECT ${challengeColumns.replace(/(\w+)/g, 'c.$1')}, ${deviceColumns.replace(/(\w+)/g, 'd.$1')}, t.user IS NULL
      FROM challenges c JOIN devices d ON d.serial = c.serial LEFT JOIN temp_codes t ON t.user = c.user
      WHERE c.challenge = ? AND c.user = ? ORDER BY c.id DESC`).raw(),
    updateChallenge: db.prepare('UPDATE challenges SET attempts = ?, state = ? WHERE id = ?'),
    audit: db.prepare('INSERT INTO audit (at_ms, user, serial, action, outcome, reason) VALUES (?, ?, ?, ?, ?, ?)'),
    auditAll: db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?'),
    auditUser: db.prepare('SELECT * FROM audit WHERE user = ? ORDER BY id DESC LIMIT ?'),
    auditSerial: db.prepare('SELECT * FROM audit WHERE serial = ? ORDER BY id DESC LIMIT ?'),
    withdrawnSince: db.prepare('SELECT coalesce(sum(amount_usd), 0) FROM withdrawals WHERE user = ? AND at_ms >= ?').pluck(),
    insertWithdrawal: db.prepare('INSERT INTO withdrawals (user, serial, amount_usd, at_ms) VALUES (?, ?, ?, ?)'),
    tempCode: db.prepare('SELECT * FROM temp_codes WHERE user = ?'),
    putTempCode: db.prepare(`INSERT INTO temp_codes (user, code_mac, issued_ms, full_until_ms, print_until_ms, blocks_next)
      VALUES (@user, @codeMac, @issuedMs, @fullUntilMs, @printUntilMs, @blocksNext)
      ON CONFLICT (user) DO UPDATE SET code_mac = excluded.code_mac, issued_ms = excluded.issued_ms,
      full_until_ms = excluded.full_until_ms, print_until_ms = excluded.print_until_ms, blocks_next = excluded.blocks_next`),
    account: db.prepare('SELECT user, password_hash, failures, locked, not_before_ms FROM accounts WHERE user = ?').raw(),
    putAccount: db.prepare(`INSERT INTO accounts (user, password_hash, failures, locked, not_before_ms) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (user) DO UPDATE SET password_hash = excluded.password_hash, failures = excluded.failures,
      locked = excluded.locked, not_before_ms = excluded.not_before_ms`),
    insertSession: db.prepare('INSERT INTO sessions (token_hash, user, serial, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)'),
    session: db.prepare('SELECT token_hash, user, serial, created_ms, expires_ms FROM sessions WHERE token_hash = ?').raw(),
    // One statement for the expired and the surplus (it was three: a prune, a listing and a delete per row).
    trimSessions: db.prepare(`DELETE FROM sessions WHERE user = ? AND (expires_ms <= ? OR token_hash IN (
      SELECT token_hash FROM sessions WHERE user = ? AND expires_ms > ? ORDER BY expires_ms DESC, token_hash DESC LIMIT -1 OFFSET ?))`),
    rateWindow: db.prepare('SELECT window_start_ms, count FROM rate_windows WHERE key = ?').raw(),
    putRateWindow: db.prepare(`INSERT INTO rate_windows (key, window_start_ms, count) VALUES (?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET window_start_ms = excluded.window_start_ms, count = excluded.count`),
    issuedBits: db.prepare('SELECT bits FROM issued_bits WHERE serial = ? AND chunk = ?').pluck(),
    putIssuedBits: db.prepare('INSERT INTO issued_bits (serial, chunk, bits) VALUES (?, ?, ?) ON CONFLICT (serial, chunk) DO UPDATE SET bits = excluded.bits'),
    pruneChallenges: db.prepare('DELETE FROM challenges WHERE id < (SELECT min(id) FROM challenges) + ? AND expires_ms < ?'),
    pruneAudit: db.prepare('DELETE FROM audit WHERE id < (SELECT min(id) FROM audit) + ? AND at_ms < ?'),
    meta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    putMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
  };
  type SessionDb = [tokenHash: Uint8Array, user: string, serial: string, createdMs: number, expiresMs: number];
  const sessionFromDb = (r: SessionDb): SessionRow => ({ tokenHash: r[0], user: r[1], serial: r[2], createdMs: r[3], expiresMs: r[4] });

  // Rows read by challengesFor's join, reused by device() and tempCode() later in the same call. Safe because
  // BEGIN IMMEDIATE holds the write lock (no other process changes them meanwhile), calls run one at a time,
  // and every write of ours to those tables, every call boundary and every rollback forgets them.
  let knownDevice: DeviceRow | undefined;
  let userWithoutTempCode: string | undefined;
  const forget = (): void => {
    knownDevice = undefined;
    userWithoutTempCode = undefined;
  };
  const step = {
    begin: db.prepare('BEGIN IMMEDIATE'),
    savepoint: db.prepare('SAVEPOINT call'),
    release: db.prepare('RELEASE call'),
    rollbackTo: db.prepare('ROLLBACK TO call'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
  };
  /** Try BEGIN IMMEDIATE again after each pause until `deadline` (performance.now() ms), then refuse. */
  async function waitForWriteLock(deadline: number): Promise<void> {
    for (;;) {
      if (performance.now() >= deadline) {
        // Another process held the write lock for all of the busy timeout: nothing of this batch ran.
        throw new StoreRefusal('busy', `busy: another process held ${path}'s write lock for more than ${options.busyTimeoutMs ?? busyTimeoutMs} ms; retry later`);
      }
      await new Promise((resolve) => setTimeout(resolve, busyRetryPauseMs));
      try {
        step.begin.run();
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      }
    }
  }
  const steps: BatchSteps = {
    begin: () => {
      forget();
      try {
        step.begin.run();
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
        return waitForWriteLock(performance.now() + (options.busyTimeoutMs ?? busyTimeoutMs) - busyWaitSliceMs);
      }
    },
    callBegin: () => {
      forget();
      step.savepoint.run();
    },
    callEnd: (ok) => {
      forget();
      if (!ok) step.rollbackTo.run();
      step.release.run();
    },
    commit: () => {
      forget();
      step.commit.run();
    },
    rollback: () => {
      forget();
      if (db.inTransaction) step.rollback.run();
    },
  };
  const ops: SyncTx = {
    userExists: (user) => q.userExists.get(user) !== undefined,
    devicesOf: (user) =>
      (q.devicesOf.all(user) as [...DeviceDb, number][]).map((d) => ({ row: deviceFromDb(d as unknown as DeviceDb), active: d[16] === 1 })),
    usersOf: (serial) => q.usersOf.all(serial) as string[],
    activeAssignment: (user, serial) => q.activeAssignment.get(user, serial) === 1,
    device(serial) {
      if (queue.inCall && knownDevice !== undefined && knownDevice.serial === serial) return knownDevice;
      const d = q.device.get(serial) as DeviceDb | undefined;
      return d && deviceFromDb(d);
    },
    serials: () => q.serials.all() as string[],
    insertDevice: (row) => {
      forget();
      q.insertDevice.run({ ...row, checkDigit: row.checkDigit ? 1 : 0, locked: row.locked ? 1 : 0 });
    },
    updateDeviceState: (serial, s) => {
      forget();
      q.updateDeviceState.run({ serial, ...s, locked: s.locked ? 1 : 0 });
    },
    updateDeviceKey: (serial, secret, pin) => {
      forget();
      q.updateDeviceKey.run(secret, pin, serial);
    },
    assign: (user, serial, active) => q.assign.run(user, serial, active ? 1 : 0),
    insertChallenge(row) {
      const result = q.insertChallenge.run(row.serial, row.user, row.challenge, row.purpose, row.sealedPayload, row.amountUsd, row.issuedMs, row.expiresMs, row.attempts, row.state);
      return result.changes === 0 ? 0 : Number(result.lastInsertRowid);
    },
    challengesFor(user, challenge) {
      const rows = q.challengesFor.all(challenge, user) as [...ChallengeDb, ...DeviceDb, number][];
      const first = rows[0];
      if (queue.inCall && first) {
        knownDevice = deviceFromDb(first.slice(11, 27) as DeviceDb);
        userWithoutTempCode = first[27] === 1 ? user : undefined;
      }
      return rows.map((r) => challengeFromDb(r as unknown as ChallengeDb));
    },
    updateChallenge: (id, attempts, state) => q.updateChallenge.run(attempts, state, id),
    audit: (e) => void q.audit.run(e.atMs, e.user, e.serial, e.action, e.outcome, e.reason),
    auditLog({ user, serial, limit }) {
      const rows = (user !== undefined ? q.auditUser.all(user, limit) : serial !== undefined ? q.auditSerial.all(serial, limit) : q.auditAll.all(limit)) as
        { at_ms: number; user: string | null; serial: string | null; action: string; outcome: AuditEntry['outcome']; reason: string | null }[];
      return rows.map((r) => ({ atMs: r.at_ms, user: r.user, serial: r.serial, action: r.action, outcome: r.outcome, reason: r.reason }));
    },
    withdrawnSince: (user, sinceMs) => q.withdrawnSince.get(user, sinceMs) as number,
    insertWithdrawal: (user, serial, amount, atMs) => q.insertWithdrawal.run(user, serial, amount, atMs),
    tempCode(user) {
      if (queue.inCall && userWithoutTempCode === user) return undefined;
      const t = q.tempCode.get(user) as { user: string; code_mac: Uint8Array; issued_ms: number; full_until_ms: number; print_until_ms: number; blocks_next: number } | undefined;
      return t && { user: t.user, codeMac: t.code_mac, issuedMs: t.issued_ms, fullUntilMs: t.full_until_ms, printUntilMs: t.print_until_ms, blocksNext: t.blocks_next === 1 };
    },
    putTempCode: (row) => {
      forget();
      q.putTempCode.run({ ...row, blocksNext: row.blocksNext ? 1 : 0 });
    },
    account(user) {
      const r = q.account.get(user) as [string, string | null, number, number, number] | undefined;
      return r && ({ user: r[0], passwordHash: r[1], failures: r[2], locked: r[3] === 1, notBeforeMs: r[4] } satisfies AccountRow);
    },
    putAccount: (a) => void q.putAccount.run(a.user, a.passwordHash, a.failures, a.locked ? 1 : 0, a.notBeforeMs),
    insertSession: (r) => void q.insertSession.run(r.tokenHash, r.user, r.serial, r.createdMs, r.expiresMs),
    session(tokenHash) {
      const r = q.session.get(tokenHash) as SessionDb | undefined;
      return r && sessionFromDb(r);
    },
    trimSessions: (user, nowMs, keep) => void q.trimSessions.run(user, nowMs, user, nowMs, keep),
    rateWindow(key) {
      const r = q.rateWindow.get(key) as [number, number] | undefined;
      return r && { windowStartMs: r[0], count: r[1] };
    },
    putRateWindow: (key, w) => void q.putRateWindow.run(key, w.windowStartMs, w.count),
    issuedBits(serial, chunk) {
      const bits = q.issuedBits.get(serial, chunk) as Uint8Array | undefined;
      return bits && new Uint8Array(bits);
    },
    putIssuedBits: (serial, chunk, bits) => void q.putIssuedBits.run(serial, chunk, bits),
    pruneChallenges: (beforeMs, rowsMax) => void q.pruneChallenges.run(rowsMax, beforeMs),
    pruneAudit: (beforeMs, rowsMax) => void q.pruneAudit.run(rowsMax, beforeMs),
    meta(key) {
      const v = q.meta.get(key) as Uint8Array | undefined;
      return v && new Uint8Array(v);
    },
    putMeta: (key, value) => void q.putMeta.run(key, value),
  };
  const queue: TransactionQueue = new TransactionQueue(steps, promisedTx(ops, () => queue.inCall), 'after-io', limits);
  let closed = false;
  return {
    kind: 'sqlite',
    transaction: (fn) => queue.run(fn),
    stats: () => queue.stats(),
    serialize: () => db.serialize(),
    async close() {
      await queue.drain();
      if (!closed) db.close();
      closed = true;
    },
  } satisfies SqliteStore;
}
