/**
 * The in-memory store: Maps in one process, for tests, the emulator's login page and the benchmark. Transactions
 * run one at a time through the same queue as SQLite's (host/transaction-queue.ts); each records how to undo
 * each change and replays that backwards when its `fn` throws, so a refusal half-way writes nothing, as in
 * SQLite.
 * The audit log keeps the newest `memoryAuditEntriesMax` entries so a long-running process stays bounded.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { AccountRow, AuditEntry, ChallengeRow, DeviceRow, RateWindow, SessionRow, Store, TempCodeRow } from './store.ts';
import { promisedTx, TransactionQueue, type BatchSteps, type SyncTx } from './transaction-queue.ts';

export const memoryAuditEntriesMax = 100_000;

const byEnrolment = (a: DeviceRow, b: DeviceRow): number => a.enrolledMs - b.enrolledMs || (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0);

/**
 * @example
 * const host = openHost({ store: memoryStore(), hostKey });
 */
export function memoryStore(): Store {
  const devices = new Map<string, DeviceRow>();
  /** `user\0serial` -> the assignment, in assignment order. */
  const assignments = new Map<string, { user: string; serial: string; active: boolean }>();
  /** user -> that user's serials (arrays replaced, never changed in place, so undo can restore them). */
  const serialsOfUser = new Map<string, readonly string[]>();
  const challenges = new Map<number, ChallengeRow>();
  /** `serial\0text` -> id: the "never the same text twice to one device" index of the rows kept. */
  const bySerialText = new Map<string, number>();
  /** `user\0text` -> ids, oldest first (arrays are replaced, never changed in place, so undo can restore them). */
  const byUserText = new Map<string, readonly number[]>();
  /** user -> that user's withdrawals, oldest first (arrays replaced, never changed in place). */
  const withdrawalsOf = new Map<string, readonly { amountUsd: number; atMs: number }[]>();
  /** serial -> the users assigned to it (arrays replaced, never changed in place). */
  const usersOfSerial = new Map<string, readonly string[]>();
  const tempCodes = new Map<string, TempCodeRow>();
  const accounts = new Map<string, AccountRow>();
  /** By the token hash in hex. */
  const sessions = new Map<string, SessionRow>();
  /** user -> the hex keys of that user's sessions, oldest first (arrays replaced, never changed in place). */
  const sessionKeysOf = new Map<string, readonly string[]>();
  const dropSession = (key: string): void => {
    const row = sessions.get(key);
    if (!row) return;
    remove(sessions, key);
    const keys = (sessionKeysOf.get(row.user) ?? []).filter((k) => k !== key);
    if (keys.length === 0) remove(sessionKeysOf, row.user);
    else put(sessionKeysOf, row.user, keys);
  };
  const rates = new Map<string, RateWindow>();
  /** `serial\0chunk` -> bits. */
  const bits = new Map<string, Uint8Array>();
  const meta = new Map<string, Uint8Array>();
  let nextChallengeId = 1;
  /** Audit entries by id (ids grow as entries are written; deleted only from the oldest end). */
  const audit = new Map<number, AuditEntry>();
  let auditNextId = 1;
  /** No entry has an id below this (it only moves up, or back down when a deletion is undone). */
  let auditFirstId = 1;
  const auditOldestId = (): number => {
    while (auditFirstId < auditNextId && !audit.has(auditFirstId)) auditFirstId++;
    return auditFirstId;
  };
  const dropAudit = (id: number): void => {
    const entry = audit.get(id);
    if (entry === undefined) return;
    audit.delete(id);
    undo?.push(() => {
      audit.set(id, entry);
      auditFirstId = Math.min(auditFirstId, id);
    });
  };

  // Inside a transaction every change records how to undo it; a call that throws replays its own backwards
  // (from its mark), a failed batch all of them.
  let undo: (() => void)[] | null = null;
  let callMark = 0;
  const undoTo = (mark: number): void => {
    while (undo && undo.length > mark) undo.pop()!();
  };
  const put = <K, V>(map: Map<K, V>, key: K, value: V): void => {
    if (undo) {
      const had = map.has(key);
      const old = map.get(key);
      undo.push(() => (had ? map.set(key, old as V) : map.delete(key)));
    }
    map.set(key, value);
  };
  const remove = <K, V>(map: Map<K, V>, key: K): void => {
    if (!map.has(key)) return;
    if (undo) {
      const old = map.get(key) as V;
      undo.push(() => map.set(key, old));
    }
    map.delete(key);
  };

  const mustDevice = (serial: string): DeviceRow => {
    const row = devices.get(serial);
    if (!row) throw new Error(`store: no device ${JSON.stringify(serial)}`);
    return row;
  };
  const dropChallenge = (c: ChallengeRow): void => {
    remove(challenges, c.id);
    if (bySerialText.get(`${c.serial}\u0000${c.challenge}`) === c.id) remove(bySerialText, `${c.serial}\u0000${c.challenge}`);
    const key = `${c.user}\u0000${c.challenge}`;
    const ids = (byUserText.get(key) ?? []).filter((id) => id !== c.id);
    if (ids.length === 0) remove(byUserText, key);
    else put(byUserText, key, ids);
  };

  const ops: SyncTx = {
    userExists: (user) => serialsOfUser.has(user),
    devicesOf: (user) =>
      (serialsOfUser.get(user) ?? []).map((serial) => ({ row: mustDevice(serial), active: assignments.get(`${user}\u0000${serial}`)!.active })).sort((a, b) => byEnrolment(a.row, b.row)),
    usersOf: (serial) => [...(usersOfSerial.get(serial) ?? [])].sort(),
    activeAssignment: (user, serial) => assignments.get(`${user}\u0000${serial}`)?.active === true,
    device: (serial) => devices.get(serial),
    serials: () => [...devices.values()].sort(byEnrolment).map((d) => d.serial),
    insertDevice(row) {
      if (devices.has(row.serial)) throw new Error(`store: device ${row.serial} exists`);
      put(devices, row.serial, row);
    },
    updateDeviceState: (serial, state) => put(devices, serial, { ...mustDevice(serial), ...state }),
    updateDeviceKey(serial, sealedSecret, sealedPin) {
      const row = mustDevice(serial);
      put(devices, serial, { ...row, sealedSecret, sealedPin, keyVersion: row.keyVersion + 1 });
    },
    assign(user, serial, active) {
      mustDevice(serial);
      const key = `${user}\u0000${serial}`;
      if (!assignments.has(key)) {
        put(serialsOfUser, user, [...(serialsOfUser.get(user) ?? []), serial]);
        put(usersOfSerial, serial, [...(usersOfSerial.get(serial) ?? []), user]);
      }
      put(assignments, key, { user, serial, active });
    },
    insertChallenge(row) {
      if (bySerialText.has(`${row.serial}\u0000${row.challenge}`)) return 0;
      const id = nextChallengeId++;
      undo?.push(() => (nextChallengeId = id));
      put(challenges, id, { ...row, id });
      put(bySerialText, `${row.serial}\u0000${row.challenge}`, id);
      const key = `${row.user}\u0000${row.challenge}`;
      put(byUserText, key, [...(byUserText.get(key) ?? []), id]);
      return id;
    },
    challengesFor: (user, challenge) => (byUserText.get(`${user}\u0000${challenge}`) ?? []).map((id) => challenges.get(id)!).reverse(),
    updateChallenge(id, attempts, state) {
      const row = challenges.get(id);
      if (!row) throw new Error(`store: no challenge ${id}`);
      put(challenges, id, { ...row, attempts, state });
    },
    audit(entry) {
      const id = auditNextId++;
      audit.set(id, entry);
      undo?.push(() => {
        audit.delete(id);
        auditNextId = id;
      });
      if (audit.size > memoryAuditEntriesMax) dropAudit(auditOldestId());
    },
    auditLog({ user, serial, limit }) {
      const out: AuditEntry[] = [];
      const oldest = auditOldestId();
      for (let id = auditNextId - 1; id >= oldest && out.length < limit; id--) {
        const e = audit.get(id);
        if (e && (user === undefined || e.user === user) && (serial === undefined || e.serial === serial)) out.push(e);
      }
      return out;
    },
    pruneAudit(beforeMs, rowsMax) {
      const oldest = auditOldestId();
      for (let id = oldest; id < oldest + rowsMax && id < auditNextId; id++) {
        const e = audit.get(id);
        if (e && e.atMs < beforeMs) dropAudit(id);
      }
    },
    withdrawnSince: (user, sinceMs) => (withdrawalsOf.get(user) ?? []).reduce((sum, w) => (w.atMs >= sinceMs ? sum + w.amountUsd : sum), 0),
    insertWithdrawal: (user, _serial, amountUsd, atMs) => put(withdrawalsOf, user, [...(withdrawalsOf.get(user) ?? []), { amountUsd, atMs }]),
    tempCode: (user) => tempCodes.get(user),
    putTempCode: (row) => put(tempCodes, row.user, row),
    account: (user) => accounts.get(user),
    putAccount: (row) => put(accounts, row.user, row),
    insertSession(row) {
      const key = bytesToHex(row.tokenHash);
      put(sessions, key, row);
      put(sessionKeysOf, row.user, [...(sessionKeysOf.get(row.user) ?? []), key]);
    },
    session: (tokenHash) => sessions.get(bytesToHex(tokenHash)),
    trimSessions(user, nowMs, keep) {
      const live: string[] = [];
      for (const key of sessionKeysOf.get(user) ?? []) {
        if (sessions.get(key)!.expiresMs <= nowMs) dropSession(key);
        else live.push(key);
      }
      // Latest expiry first; ties by the token hash's bytes, highest first (hex strings sort as their bytes do).
      live.sort((a, b) => sessions.get(b)!.expiresMs - sessions.get(a)!.expiresMs || (a < b ? 1 : a > b ? -1 : 0));
      for (const key of live.slice(keep)) dropSession(key);
    },
    rateWindow: (key) => rates.get(key),
    putRateWindow: (key, window) => put(rates, key, window),
    issuedBits: (serial, chunk) => bits.get(`${serial}\u0000${chunk}`)?.slice(),
    putIssuedBits: (serial, chunk, value) => put(bits, `${serial}\u0000${chunk}`, value.slice()),
    pruneChallenges(beforeMs, rowsMax) {
      // Map order is insertion (id) order: the first entry is the oldest row.
      const expired: ChallengeRow[] = [];
      let oldest: number | undefined;
      for (const c of challenges.values()) {
        oldest ??= c.id;
        if (c.id >= oldest + rowsMax) break;
        if (c.expiresMs < beforeMs) expired.push(c);
      }
      for (const c of expired) dropChallenge(c);
    },
    meta: (key) => meta.get(key)?.slice(),
    putMeta: (key, value) => put(meta, key, value.slice()),
  };
  const steps: BatchSteps = {
    begin: () => {
      undo = [];
      callMark = 0;
    },
    callBegin: () => {
      callMark = undo!.length;
    },
    callEnd: (ok) => {
      if (!ok) undoTo(callMark);
    },
    commit: () => {
      undo = null;
    },
    rollback: () => {
      undoTo(0);
      undo = null;
    },
  };
  const queue: TransactionQueue = new TransactionQueue(steps, promisedTx(ops, () => queue.inCall), 'now');
  return {
    kind: 'memory',
    transaction: (fn) => queue.run(fn),
    stats: () => queue.stats(),
    async close() {
      await queue.drain();
      devices.clear();
      challenges.clear();
      sessions.clear();
      sessionKeysOf.clear();
    },
  };
}
