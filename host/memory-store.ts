/**
 * The in-memory store: Maps in one process, for tests, the emulator's login page and the benchmark. A
 * transaction is simply a synchronous call: nothing else runs in between on the one JavaScript thread.
 * The audit log keeps the newest `memoryAuditEntriesMax` entries so a long-running process stays bounded.
 */
import type { AuditEntry, ChallengeRow, ChallengeState, DeviceRow, DeviceState, Store, TempCodeRow } from './store.ts';

export const memoryAuditEntriesMax = 100_000;

type MutableChallenge = { -readonly [K in keyof ChallengeRow]: ChallengeRow[K] };

/**
 * @example
 * const host = openHost({ store: memoryStore(), hostKey });
 */
export function memoryStore(): Store {
  const devices = new Map<string, DeviceRow>();
  const assignments = new Map<string, Map<string, boolean>>(); // user -> serial -> active
  const challenges = new Map<number, MutableChallenge>();
  // Like the SQLite index UNIQUE (challenge, serial): challenge text -> every row ever issued with it, newest
  // first. A 6-digit text is shared by few rows, so both "issued to this device?" and "which row is this user
  // answering?" are a short scan.
  const byChallenge = new Map<string, MutableChallenge[]>();
  // A ring buffer: the oldest entry is overwritten once full, in constant time.
  const audit: AuditEntry[] = [];
  let auditNext = 0;
  const withdrawals: { user: string; amountUsd: number; atMs: number }[] = [];
  const tempCodes = new Map<string, TempCodeRow>();
  let nextId = 1;
  let depth = 0;

  const mustDevice = (serial: string): DeviceRow => {
    const row = devices.get(serial);
    if (!row) throw new Error(`store: no device ${JSON.stringify(serial)}`);
    return row;
  };

  return {
    transaction<T>(fn: () => T): T {
      // No rollback: callers compute first and write last, and a throw mid-way is a bug that stops the process.
      depth++;
      try {
        return fn();
      } finally {
        depth--;
      }
    },
    userExists: (user) => (assignments.get(user)?.size ?? 0) > 0,
    devicesOf(user) {
      const list: { row: DeviceRow; active: boolean }[] = [];
      for (const [serial, active] of assignments.get(user) ?? []) list.push({ row: mustDevice(serial), active });
      // Most users hold one device: no sort needed then (this runs on every challenge).
      return list.length < 2 ? list : list.sort((a, b) => a.row.enrolledMs - b.row.enrolledMs || (a.row.serial < b.row.serial ? -1 : 1));
    },
    usersOf: (serial) => [...assignments].filter(([, serials]) => serials.has(serial)).map(([user]) => user).sort(),
    device: (serial) => devices.get(serial),
    serials: () => [...devices.values()].sort((a, b) => a.enrolledMs - b.enrolledMs || (a.serial < b.serial ? -1 : 1)).map((d) => d.serial),
    insertDevice(row) {
      if (devices.has(row.serial)) throw new Error(`store: device ${row.serial} exists`);
      devices.set(row.serial, row);
    },
    updateDeviceState: (serial, state: DeviceState) => void devices.set(serial, { ...mustDevice(serial), ...state }),
    updateDeviceKey(serial, sealedSecret, sealedPin) {
      const row = mustDevice(serial);
      devices.set(serial, { ...row, sealedSecret, sealedPin, keyVersion: row.keyVersion + 1 });
    },
    assign(user, serial, active) {
      mustDevice(serial);
      let map = assignments.get(user);
      if (!map) assignments.set(user, (map = new Map()));
      map.set(serial, active);
    },
    challengeIssued(serial, challenge) {
      const rows = byChallenge.get(challenge);
      if (rows) for (const row of rows) if (row.serial === serial) return true;
      return false;
    },
    insertChallenge(row) {
      let rows = byChallenge.get(row.challenge);
      if (!rows) byChallenge.set(row.challenge, (rows = []));
      for (const other of rows) if (other.serial === row.serial) throw new Error(`store: challenge reissued to ${row.serial}`);
      const id = nextId++;
      const stored: MutableChallenge = {
        id, serial: row.serial, user: row.user, challenge: row.challenge, purpose: row.purpose, sealedPayload: row.sealedPayload,
        amountUsd: row.amountUsd, issuedMs: row.issuedMs, expiresMs: row.expiresMs, attempts: row.attempts, state: row.state,
      };
      challenges.set(id, stored);
      rows.unshift(stored);
      return id;
    },
    challengesFor(user, challenge) {
      const out: ChallengeRow[] = [];
      for (const row of byChallenge.get(challenge) ?? []) if (row.user === user) out.push(row);
      return out;
    },
    updateChallenge(id, attempts, state: ChallengeState) {
      // Challenge rows are the one thing every verification rewrites: updated in place (rows handed out are
      // read within the transaction that fetched them, as the Store contract says).
      const row = challenges.get(id);
      if (!row) throw new Error(`store: no challenge ${id}`);
      row.attempts = attempts;
      row.state = state;
    },
    audit(entry) {
      if (audit.length < memoryAuditEntriesMax) audit.push(entry);
      else audit[auditNext] = entry;
      auditNext = (auditNext + 1) % memoryAuditEntriesMax;
    },
    auditLog({ user, serial, limit }) {
      const out: AuditEntry[] = [];
      for (let back = 1; back <= audit.length && out.length < limit; back++) {
        const e = audit[(auditNext - back + memoryAuditEntriesMax) % memoryAuditEntriesMax]!;
        if ((user === undefined || e.user === user) && (serial === undefined || e.serial === serial)) out.push(e);
      }
      return out;
    },
    withdrawnSince: (user, sinceMs) => withdrawals.filter((w) => w.user === user && w.atMs >= sinceMs).reduce((sum, w) => sum + w.amountUsd, 0),
    insertWithdrawal: (user, _serial, amountUsd, atMs) => void withdrawals.push({ user, amountUsd, atMs }),
    tempCode: (user) => tempCodes.get(user),
    putTempCode: (row) => void tempCodes.set(row.user, row),
    close() {
      devices.clear();
      challenges.clear();
    },
  };
}
