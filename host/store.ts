/**
 * The narrow persistence interface the verifier needs. Three implementations: SQLite (host/sqlite-store.ts, the
 * default, shared by processes through one file; transactions arriving together share one commit), memory
 * (host/memory-store.ts, one process) and PostgreSQL (host/pg-store.ts, several verifier instances on one
 * database; a transaction is REPEATABLE READ with the deciding rows locked, re-run a bounded number of times on a
 * serialization failure).
 *
 * Every method is asynchronous because a network database is; all data access goes through `transaction`, whose
 * callback gets the transaction's handle (`StoreTx`). Inside a transaction await only that handle: slow work (a
 * password hash) runs before or after it, never while it holds the write lock.
 * Rows hold sealed secrets only (host/seal.ts); the store never sees a secret, PIN or response in the clear.
 */
import type { Profile as CardProfile } from '../firmware/types.ts';

/** The kinds of second factor the Secure Login System knows, with their withdrawal limits in host/limits.ts. */
export const deviceKinds = ['security-code-card', 'mobile-app', 'dsc', 'dscplus', 'gold', 'platinum'] as const;
export type DeviceKind = (typeof deviceKinds)[number];

/**
 * A device's profile at the host: a keypad card's (the firmware's `Profile`, which owns those names) or a
 * printed Security Code Card, which runs no firmware and so is known to the host alone.
 */
export type DeviceProfile = CardProfile | 'code-card';

export interface DeviceRow {
  readonly serial: string;
  readonly model: string;
  readonly profile: DeviceProfile;
  readonly kind: DeviceKind;
  /** The OCRA suite, or `SCC` for a Security Code Card. */
  readonly suite: string;
  readonly checkDigit: boolean;
  readonly sealedSecret: Uint8Array;
  readonly sealedPin: Uint8Array | null;
  /** Bumped whenever the secret or PIN changes, so a cache of unsealed material knows it is stale. */
  readonly keyVersion: number;
  readonly counter: number;
  /** The last time step accepted (time suites), -1 when none. */
  readonly lastTimeStep: number;
  readonly failures: number;
  readonly locked: boolean;
  /** No verification is attempted before this time (throttling after failures). */
  readonly notBeforeMs: number;
  /** A device that stops working at a date (the online Security Code Card), else null. */
  readonly expiresMs: number | null;
  readonly enrolledMs: number;
}

export type DeviceState = Pick<DeviceRow, 'counter' | 'lastTimeStep' | 'failures' | 'locked' | 'notBeforeMs'>;

/** What a challenge is for: an answer only counts for the purpose its challenge was issued for. */
export const challengePurposes = ['login', 'pin-change', 'withdrawal'] as const;
export type ChallengePurpose = (typeof challengePurposes)[number];
export type ChallengeState = 'open' | 'used' | 'exhausted' | 'expired';

export interface ChallengeRow {
  readonly id: number;
  readonly serial: string;
  readonly user: string;
  /** The challenge exactly as shown to the user (with its check digit, when the device uses one). */
  readonly challenge: string;
  readonly purpose: ChallengePurpose;
  /** For a PIN change: the new PIN, sealed. */
  readonly sealedPayload: Uint8Array | null;
  /** For a withdrawal: the amount in whole US dollars. */
  readonly amountUsd: number | null;
  readonly issuedMs: number;
  readonly expiresMs: number;
  readonly attempts: number;
  readonly state: ChallengeState;
}

export interface AuditEntry {
  readonly atMs: number;
  readonly user: string | null;
  readonly serial: string | null;
  /** What was asked: enroll, challenge, verify, unlock, pin-change, withdrawal, temp-code, code-card, import… */
  readonly action: string;
  readonly outcome: 'ok' | 'refused' | 'failed';
  /** Why, in words; never a response, PIN or secret. */
  readonly reason: string | null;
}

export interface TempCodeRow {
  readonly user: string;
  /** HMAC of the code under the host key: the code itself is never stored. */
  readonly codeMac: Uint8Array;
  readonly issuedMs: number;
  readonly fullUntilMs: number;
  readonly printUntilMs: number;
  /** Set when issued, cleared by a successful login with a device: "never two in a row". */
  readonly blocksNext: boolean;
}

/** A user's first factor and the account's lockout state (every factor's failures count here). */
export interface AccountRow {
  readonly user: string;
  /** The encoded password hash (host/password.ts), or null before a password is set. */
  readonly passwordHash: string | null;
  /** Consecutive failures of any factor since the last completed login. */
  readonly failures: number;
  readonly locked: boolean;
  /** No attempt of any factor is checked before this time (throttling after failures). */
  readonly notBeforeMs: number;
}

/** A live login: the token itself is never stored, only its SHA-256. */
export interface SessionRow {
  readonly tokenHash: Uint8Array;
  readonly user: string;
  /** The device whose response opened the session. */
  readonly serial: string;
  readonly createdMs: number;
  readonly expiresMs: number;
}

/** A fixed rate-limit window: how many events `key` had since `windowStartMs`. */
export interface RateWindow {
  readonly windowStartMs: number;
  readonly count: number;
}

/**
 * What a transaction can read and write. Rows it returns are valid within the transaction that read them: read
 * what you need, then write.
 */
export interface StoreTx {
  userExists(user: string): Promise<boolean>;
  devicesOf(user: string): Promise<{ row: DeviceRow; active: boolean }[]>;
  usersOf(serial: string): Promise<string[]>;
  /** Whether `user` holds `serial` and it is active (one key lookup: what a verification checks). */
  activeAssignment(user: string, serial: string): Promise<boolean>;
  device(serial: string): Promise<DeviceRow | undefined>;
  /** Every enrolled serial, in enrolment order. */
  serials(): Promise<string[]>;
  insertDevice(row: DeviceRow): Promise<void>;
  updateDeviceState(serial: string, state: DeviceState): Promise<void>;
  updateDeviceKey(serial: string, sealedSecret: Uint8Array, sealedPin: Uint8Array | null): Promise<void>;
  assign(user: string, serial: string, active: boolean): Promise<void>;
  /**
   * Record a challenge and return its id, or 0 (writing nothing) when this text was already issued to this
   * device: the "never issued twice" check and the insert are one lookup, one statement.
   */
  insertChallenge(row: Omit<ChallengeRow, 'id'>): Promise<number>;
  /** Every challenge issued to `user` with this text, newest first. */
  challengesFor(user: string, challenge: string): Promise<ChallengeRow[]>;
  updateChallenge(id: number, attempts: number, state: ChallengeState): Promise<void>;
  audit(entry: AuditEntry): Promise<void>;
  auditLog(filter: { user?: string; serial?: string; limit: number }): Promise<AuditEntry[]>;
  withdrawnSince(user: string, sinceMs: number): Promise<number>;
  insertWithdrawal(user: string, serial: string, amountUsd: number, atMs: number): Promise<void>;
  tempCode(user: string): Promise<TempCodeRow | undefined>;
  putTempCode(row: TempCodeRow): Promise<void>;
  account(user: string): Promise<AccountRow | undefined>;
  putAccount(row: AccountRow): Promise<void>;
  insertSession(row: SessionRow): Promise<void>;
  session(tokenHash: Uint8Array): Promise<SessionRow | undefined>;
  /**
   * Forget the user's sessions that expired by `nowMs`, and all but the `keep` of the live ones that expire last
   * (ties: the higher token hash, by its bytes, is kept). Sessions all live `sessionTtlMs`, so those are the newest.
   */
  trimSessions(user: string, nowMs: number, keep: number): Promise<void>;
  rateWindow(key: string): Promise<RateWindow | undefined>;
  putRateWindow(key: string, window: RateWindow): Promise<void>;
  /** One chunk of the device's bitmap of challenges ever issued (host/issued-bits.ts), or undefined when all clear. */
  issuedBits(serial: string, chunk: number): Promise<Uint8Array | undefined>;
  putIssuedBits(serial: string, chunk: number, bits: Uint8Array): Promise<void>;
  /**
   * Forget the challenge rows that expired before `beforeMs` among those whose id is below the oldest row's id
   * plus `rowsMax` (ids grow in insertion order). The bitmap still remembers they were issued. Bounded work per
   * call: the oldest rows are the first to expire, so calling it on every issue keeps the table at what the keep
   * period holds.
   */
  pruneChallenges(beforeMs: number, rowsMax: number): Promise<void>;
  /**
   * Forget the audit entries stamped before `beforeMs` among those whose id is below the oldest entry's id plus
   * `rowsMax` (ids grow in the order entries are written): bounded work per call (host/core.ts decides when).
   */
  pruneAudit(beforeMs: number, rowsMax: number): Promise<void>;
  meta(key: string): Promise<Uint8Array | undefined>;
  putMeta(key: string, value: Uint8Array): Promise<void>;
}

export type StoreKind = 'sqlite' | 'memory' | 'postgres';

/**
 * A transaction the store did not run (it wrote nothing): `busy` when too many are already waiting (the
 * caller may retry later; a service answers 503), `closed` when the store is closing or closed.
 */
export class StoreRefusal extends Error {
  override name = 'StoreRefusal';
  constructor(readonly reason: 'busy' | 'closed', message: string) {
    super(message);
  }
}

/** How transactions were committed, for a service's metrics. */
export interface StoreStats {
  /** Commits (each one fsync in durable mode). */
  readonly commits: number;
  /** Transactions (calls of `transaction`) those commits carried. */
  readonly calls: number;
  /** The most calls one commit carried. */
  readonly largestBatch: number;
  /** Calls waiting for their turn now. */
  readonly queued: number;
  /** Transactions run again after a serialization failure or deadlock (PostgreSQL), when the store re-runs. */
  readonly retries?: number;
}

export interface Store {
  readonly kind: StoreKind;
  /**
   * Run `fn` as one atomic, serialized unit: all of it commits or none of it does, and the promise settles only
   * after the commit (or the rollback, when `fn` throws: the error is rethrown). SQLite: BEGIN IMMEDIATE, calls
   * arriving together batched into one commit with a savepoint each. PostgreSQL: REPEATABLE READ, `fn` re-run on a
   * serialization failure, so `fn` must have no effect outside `tx` (it may run more than once).
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Counts for metrics, when the store keeps them. */
  stats?(): StoreStats;
  /** Refuse new transactions (`StoreRefusal` 'closed'), let the queued ones finish, then release the database. */
  close(): Promise<void>;
}
