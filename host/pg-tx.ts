/**
 * The statements of the PostgreSQL store: a `StoreTx` over one connection inside one transaction
 * (host/pg-store.ts opens, retries and commits it). Same results as host/sqlite-store.ts: orders are stated
 * in each statement, text sorts use COLLATE "C" (SQLite's byte order), bytes come back as Uint8Array and
 * every BIGINT as a number. Statements are named, so each connection prepares them once.
 */
import type pg from 'pg';
import type { AccountRow, AuditEntry, ChallengeRow, ChallengeState, DeviceRow, SessionRow, StoreTx, TempCodeRow } from './store.ts';

export type Query = (config: pg.QueryConfig) => Promise<pg.QueryResult>;

const deviceColumns = `serial, model, profile, kind, suite, check_digit, sealed_secret, sealed_pin, key_version, counter,
  last_time_step, failures, locked, not_before_ms, expires_ms, enrolled_ms`;
const challengeColumns = 'id, serial, "user", challenge, purpose, sealed_payload, amount_usd, issued_ms, expires_ms, attempts, state';
const sessionColumns = 'token_hash, "user", serial, created_ms, expires_ms';

// The rows that decide a race are read FOR UPDATE (see host/pg-store.ts).
const sql = {
  userExists: 'SELECT 1 FROM assignments WHERE "user" = $1 LIMIT 1',
  devicesOf: `SELECT ${deviceColumns.replace(/(\w+)/g, 'd.$1')}, a.active FROM assignments a JOIN devices d USING (serial)
    WHERE a."user" = $1 ORDER BY d.enrolled_ms, d.serial COLLATE "C"`,
  usersOf: 'SELECT "user" FROM assignments WHERE serial = $1 ORDER BY "user" COLLATE "C"',
  activeAssignment: 'SELECT active FROM assignments WHERE "user" = $1 AND serial = $2',
  device: `SELECT ${deviceColumns} FROM devices WHERE serial = $1 FOR UPDATE`,
  serials: 'SELECT serial FROM devices ORDER BY enrolled_ms, serial COLLATE "C"',
  insertDevice: `INSERT INTO devices (${deviceColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
  updateDeviceState: 'UPDATE devices SET counter = $2, last_time_step = $3, failures = $4, locked = $5, not_before_ms = $6 WHERE serial = $1',
  updateDeviceKey: 'UPDATE devices SET sealed_secret = $2, sealed_pin = $3, key_version = key_version + 1 WHERE serial = $1',
  assign: `INSERT INTO assignments ("user", serial, active) VALUES ($1, $2, $3)
    ON CONFLICT ("user", serial) DO UPDATE SET active = excluded.active`,
  insertChallenge: `INSERT INTO challenges (serial, "user", challenge, purpose, sealed_payload, amount_usd, issued_ms, expires_ms, attempts, state)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (challenge, serial) DO NOTHING RETURNING id`,
  challengesFor: `SELECT ${challengeColumns} FROM challenges WHERE challenge = $1 AND "user" = $2 ORDER BY id DESC FOR UPDATE`,
  updateChallenge: 'UPDATE challenges SET attempts = $2, state = $3 WHERE id = $1',
  audit: 'INSERT INTO audit (at_ms, "user", serial, action, outcome, reason) VALUES ($1, $2, $3, $4, $5, $6)',
  auditAll: 'SELECT at_ms, "user", serial, action, outcome, reason FROM audit ORDER BY id DESC LIMIT $1',
  auditUser: 'SELECT at_ms, "user", serial, action, outcome, reason FROM audit WHERE "user" = $2 ORDER BY id DESC LIMIT $1',
  auditSerial: 'SELECT at_ms, "user", serial, action, outcome, reason FROM audit WHERE serial = $2 ORDER BY id DESC LIMIT $1',
  // A new version of the user's account row (created with its defaults when absent, the same as no row to the
  // host): two transactions summing one user's withdrawals against a limit then both write this row, so the
  // second aborts and re-runs with the first's withdrawal in its sum (see host/pg-store.ts on REPEATABLE READ).
  claimWithdrawals: 'INSERT INTO accounts ("user") VALUES ($1) ON CONFLICT ("user") DO UPDATE SET "user" = excluded."user"',
  withdrawnSince: 'SELECT coalesce(sum(amount_usd), 0)::bigint AS total FROM withdrawals WHERE "user" = $1 AND at_ms >= $2',
  insertWithdrawal: 'INSERT INTO withdrawals ("user", serial, amount_usd, at_ms) VALUES ($1, $2, $3, $4)',
  tempCode: 'SELECT "user", code_mac, issued_ms, full_until_ms, print_until_ms, blocks_next FROM temp_codes WHERE "user" = $1 FOR UPDATE',
  putTempCode: `INSERT INTO temp_codes ("user", code_mac, issued_ms, full_until_ms, print_until_ms, blocks_next) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT ("user") DO UPDATE SET code_mac = excluded.code_mac, issued_ms = excluded.issued_ms,
    full_until_ms = excluded.full_until_ms, print_until_ms = excluded.print_until_ms, blocks_next = excluded.blocks_next`,
  account: 'SELECT "user", password_hash, failures, locked, not_before_ms FROM accounts WHERE "user" = $1 FOR UPDATE',
  putAccount: `INSERT INTO accounts ("user", password_hash, failures, locked, not_before_ms) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT ("user") DO UPDATE SET password_hash = excluded.password_hash, failures = excluded.failures,
    locked = excluded.locked, not_before_ms = excluded.not_before_ms`,
  insertSession: `INSERT INTO sessions (${sessionColumns}) VALUES ($1, $2, $3, $4, $5)`,
  session: `SELECT ${sessionColumns} FROM sessions WHERE token_hash = $1`,
  trimSessions: `DELETE FROM sessions WHERE "user" = $1 AND (expires_ms <= $2 OR token_hash IN (
    SELECT token_hash FROM sessions WHERE "user" = $1 AND expires_ms > $2 ORDER BY expires_ms DESC, token_hash DESC OFFSET $3))`,
  rateWindow: 'SELECT window_start_ms, count FROM rate_windows WHERE key = $1 FOR UPDATE',
  putRateWindow: `INSERT INTO rate_windows (key, window_start_ms, count) VALUES ($1, $2, $3)
    ON CONFLICT (key) DO UPDATE SET window_start_ms = excluded.window_start_ms, count = excluded.count`,
  issuedBits: 'SELECT bits FROM issued_bits WHERE serial = $1 AND chunk = $2 FOR UPDATE',
  putIssuedBits: 'INSERT INTO issued_bits (serial, chunk, bits) VALUES ($1, $2, $3) ON CONFLICT (serial, chunk) DO UPDATE SET bits = excluded.bits',
  pruneChallenges: 'DELETE FROM challenges WHERE id < (SELECT min(id) FROM challenges) + $2 AND expires_ms < $1',
  pruneAudit: 'DELETE FROM audit WHERE id < (SELECT min(id) FROM audit) + $2 AND at_ms < $1',
  meta: 'SELECT value FROM meta WHERE key = $1',
  putMeta: 'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
} as const;

/** The statements that lock the row deciding a race: what a re-run queues on (host/pg-store.ts). */
export const lockingStatements: ReadonlySet<string> = new Set(Object.entries(sql).filter(([, text]) => text.endsWith('FOR UPDATE')).map(([name]) => name));

type Row = Record<string, unknown>;

/** A copy as a plain Uint8Array (pg gives Buffers, which compare and serialise differently). */
const bytes = (value: unknown): Uint8Array => new Uint8Array(value as Uint8Array);
const bytesOrNull = (value: unknown): Uint8Array | null => (value === null ? null : bytes(value));

function deviceFrom(r: Row): DeviceRow {
  return {
    serial: r.serial as string, model: r.model as string, profile: r.profile as DeviceRow['profile'], kind: r.kind as DeviceRow['kind'],
    suite: r.suite as string, checkDigit: r.check_digit as boolean, sealedSecret: bytes(r.sealed_secret), sealedPin: bytesOrNull(r.sealed_pin),
    keyVersion: r.key_version as number, counter: r.counter as number, lastTimeStep: r.last_time_step as number, failures: r.failures as number,
    locked: r.locked as boolean, notBeforeMs: r.not_before_ms as number, expiresMs: r.expires_ms as number | null, enrolledMs: r.enrolled_ms as number,
  };
}

function challengeFrom(r: Row): ChallengeRow {
  return {
    id: r.id as number, serial: r.serial as string, user: r.user as string, challenge: r.challenge as string,
    purpose: r.purpose as ChallengeRow['purpose'], sealedPayload: bytesOrNull(r.sealed_payload), amountUsd: r.amount_usd as number | null,
    issuedMs: r.issued_ms as number, expiresMs: r.expires_ms as number, attempts: r.attempts as number, state: r.state as ChallengeState,
  };
}

const sessionFrom = (r: Row): SessionRow => ({
  tokenHash: bytes(r.token_hash), user: r.user as string, serial: r.serial as string, createdMs: r.created_ms as number, expiresMs: r.expires_ms as number,
});

const auditFrom = (r: Row): AuditEntry => ({
  atMs: r.at_ms as number, user: r.user as string | null, serial: r.serial as string | null, action: r.action as string,
  outcome: r.outcome as AuditEntry['outcome'], reason: r.reason as string | null,
});

/**
 * @example
 * const tx = pgTx((config) => client.query(config));
 * await tx.serials(); // ['1001', '1002']
 */
export function pgTx(query: Query): StoreTx {
  const run = async (name: keyof typeof sql, values: unknown[]): Promise<Row[]> => (await query({ name, text: sql[name], values })).rows as Row[];
  const first = async (name: keyof typeof sql, values: unknown[]): Promise<Row | undefined> => (await run(name, values))[0];
  return {
    userExists: async (user) => (await run('userExists', [user])).length > 0,
    devicesOf: async (user) => (await run('devicesOf', [user])).map((r) => ({ row: deviceFrom(r), active: r.active as boolean })),
    usersOf: async (serial) => (await run('usersOf', [serial])).map((r) => r.user as string),
    activeAssignment: async (user, serial) => (await first('activeAssignment', [user, serial]))?.active === true,
    device: async (serial) => {
      const r = await first('device', [serial]);
      return r && deviceFrom(r);
    },
    serials: async () => (await run('serials', [])).map((r) => r.serial as string),
    insertDevice: async (d) => void (await run('insertDevice', [
      d.serial, d.model, d.profile, d.kind, d.suite, d.checkDigit, d.sealedSecret, d.sealedPin, d.keyVersion, d.counter,
      d.lastTimeStep, d.failures, d.locked, d.notBeforeMs, d.expiresMs, d.enrolledMs,
    ])),
    updateDeviceState: async (serial, s) => void (await run('updateDeviceState', [serial, s.counter, s.lastTimeStep, s.failures, s.locked, s.notBeforeMs])),
    updateDeviceKey: async (serial, secret, pin) => void (await run('updateDeviceKey', [serial, secret, pin])),
    assign: async (user, serial, active) => void (await run('assign', [user, serial, active])),
    insertChallenge: async (c) => {
      const r = await first('insertChallenge', [c.serial, c.user, c.challenge, c.purpose, c.sealedPayload, c.amountUsd, c.issuedMs, c.expiresMs, c.attempts, c.state]);
      return r === undefined ? 0 : (r.id as number);
    },
    challengesFor: async (user, challenge) => (await run('challengesFor', [challenge, user])).map(challengeFrom),
    updateChallenge: async (id, attempts, state) => void (await run('updateChallenge', [id, attempts, state])),
    audit: async (e) => void (await run('audit', [e.atMs, e.user, e.serial, e.action, e.outcome, e.reason])),
    auditLog: async ({ user, serial, limit }) =>
      (user !== undefined ? await run('auditUser', [limit, user]) : serial !== undefined ? await run('auditSerial', [limit, serial]) : await run('auditAll', [limit])).map(auditFrom),
    withdrawnSince: async (user, sinceMs) => {
      await run('claimWithdrawals', [user]);
      return (await first('withdrawnSince', [user, sinceMs]))!.total as number;
    },
    insertWithdrawal: async (user, serial, amountUsd, atMs) => void (await run('insertWithdrawal', [user, serial, amountUsd, atMs])),
    tempCode: async (user) => {
      const t = await first('tempCode', [user]);
      return t && ({
        user: t.user as string, codeMac: bytes(t.code_mac), issuedMs: t.issued_ms as number, fullUntilMs: t.full_until_ms as number,
        printUntilMs: t.print_until_ms as number, blocksNext: t.blocks_next as boolean,
      } satisfies TempCodeRow);
    },
    putTempCode: async (t) => void (await run('putTempCode', [t.user, t.codeMac, t.issuedMs, t.fullUntilMs, t.printUntilMs, t.blocksNext])),
    account: async (user) => {
      const a = await first('account', [user]);
      return a && ({
        user: a.user as string, passwordHash: a.password_hash as string | null, failures: a.failures as number, locked: a.locked as boolean,
        notBeforeMs: a.not_before_ms as number,
      } satisfies AccountRow);
    },
    putAccount: async (a) => void (await run('putAccount', [a.user, a.passwordHash, a.failures, a.locked, a.notBeforeMs])),
    insertSession: async (s) => void (await run('insertSession', [s.tokenHash, s.user, s.serial, s.createdMs, s.expiresMs])),
    session: async (tokenHash) => {
      const r = await first('session', [tokenHash]);
      return r && sessionFrom(r);
    },
    trimSessions: async (user, nowMs, keep) => void (await run('trimSessions', [user, nowMs, keep])),
    rateWindow: async (key) => {
      const r = await first('rateWindow', [key]);
      return r && { windowStartMs: r.window_start_ms as number, count: r.count as number };
    },
    putRateWindow: async (key, w) => void (await run('putRateWindow', [key, w.windowStartMs, w.count])),
    issuedBits: async (serial, chunk) => {
      const r = await first('issuedBits', [serial, chunk]);
      return r && bytes(r.bits);
    },
    putIssuedBits: async (serial, chunk, bits) => void (await run('putIssuedBits', [serial, chunk, bits])),
    pruneChallenges: async (beforeMs, rowsMax) => void (await run('pruneChallenges', [beforeMs, rowsMax])),
    pruneAudit: async (beforeMs, rowsMax) => void (await run('pruneAudit', [beforeMs, rowsMax])),
    meta: async (key) => {
      const r = await first('meta', [key]);
      return r && bytes(r.value);
    },
    putMeta: async (key, value) => void (await run('putMeta', [key, value])),
  };
}
