/**
 * The in-memory store: Maps in one process, for tests, the emulator's login page and the benchmark. A
 * transaction is simply a synchronous call: nothing else runs in between on the one JavaScript thread.
 * The audit log keeps the newest `memoryAuditEntriesMax` entries so a long-running process stays bounded.
 */
import { ChallengeTable } from './_challenge-table.ts';
import type { AuditEntry, ChallengeRow, ChallengeState, DeviceRow, DeviceState, Store, TempCodeRow } from './store.ts';

export const memoryAuditEntriesMax = 100_000;

const outcomes: readonly AuditEntry['outcome'][] = ['ok', 'refused', 'failed'];

/**
 * @example
 * const host = openHost({ store: memoryStore(), hostKey });
 */
export function memoryStore(): Store {
  const devices = new Map<string, DeviceRow>();
  // user -> that user's assignments, in assignment order: an array, so the per-challenge lookup walks it with
  // no callback and no iterator.
  const assignments = new Map<string, { serial: string; active: boolean }[]>();
  const challenges = new ChallengeTable();
  // The audit log is a ring buffer in columns: an entry costs no object that lives on (a long run would
  // otherwise keep 100,000 small objects for the garbage collector to copy and promote).
  const auditAtMs = new Float64Array(memoryAuditEntriesMax);
  const auditOutcome = new Uint8Array(memoryAuditEntriesMax);
  const auditUser: (string | null)[] = [];
  const auditSerial: (string | null)[] = [];
  const auditAction: string[] = [];
  const auditReason: (string | null)[] = [];
  let auditCount = 0;
  let auditNext = 0;
  const withdrawals: { user: string; amountUsd: number; atMs: number }[] = [];
  const tempCodes = new Map<string, TempCodeRow>();

  const mustDevice = (serial: string): DeviceRow => {
    const row = devices.get(serial);
    if (!row) throw new Error(`store: no device ${JSON.stringify(serial)}`);
    return row;
  };

  return {
    transaction<T>(fn: () => T): T {
      // No rollback: callers compute first and write last, and a throw mid-way is a bug that stops the process.
      return fn();
    },
    userExists: (user) => (assignments.get(user)?.length ?? 0) > 0,
    devicesOf(user) {
      const list: { row: DeviceRow; active: boolean }[] = [];
      const mine = assignments.get(user);
      if (mine) for (let i = 0; i < mine.length; i++) list.push({ row: mustDevice(mine[i]!.serial), active: mine[i]!.active });
      // Most users hold one device: no sort needed then (this runs on every challenge).
      return list.length < 2 ? list : list.sort((a, b) => a.row.enrolledMs - b.row.enrolledMs || (a.row.serial < b.row.serial ? -1 : 1));
    },
    usersOf: (serial) => [...assignments].filter(([, mine]) => mine.some((a) => a.serial === serial)).map(([user]) => user).sort(),
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
      let mine = assignments.get(user);
      if (!mine) assignments.set(user, (mine = []));
      const existing = mine.find((a) => a.serial === serial);
      if (existing) existing.active = active;
      else mine.push({ serial, active });
    },
    insertChallenge: (row) => challenges.insert(row),
    challengesFor: (user, challenge) => challenges.rowsFor(user, challenge),
    updateChallenge: (id, attempts, state: ChallengeState) => challenges.update(id, attempts, state),
    audit(entry) {
      const at = auditNext;
      auditAtMs[at] = entry.atMs;
      auditUser[at] = entry.user;
      auditSerial[at] = entry.serial;
      auditAction[at] = entry.action;
      auditOutcome[at] = outcomes.indexOf(entry.outcome);
      auditReason[at] = entry.reason;
      auditNext = at + 1 === memoryAuditEntriesMax ? 0 : at + 1;
      if (auditCount < memoryAuditEntriesMax) auditCount++;
    },
    auditLog({ user, serial, limit }) {
      const out: AuditEntry[] = [];
      for (let back = 1; back <= auditCount && out.length < limit; back++) {
        const at = (auditNext - back + memoryAuditEntriesMax) % memoryAuditEntriesMax;
        if ((user === undefined || auditUser[at] === user) && (serial === undefined || auditSerial[at] === serial)) {
          out.push({ atMs: auditAtMs[at]!, user: auditUser[at]!, serial: auditSerial[at]!, action: auditAction[at]!, outcome: outcomes[auditOutcome[at]!]!, reason: auditReason[at]! });
        }
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
