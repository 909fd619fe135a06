/**
 * What every part of the verifier shares: the store, the sealer, the clock, the random source, the limits.
 * Each job (enrolment, issue, matching, verification, withdrawals, PIN change, admin) is a set of functions
 * over a `TxCore`: this core plus the handle of the one store transaction the job runs in. host/host.ts is the
 * facade that opens the transaction (`inTransaction`) and hands it down; a job never opens another (the store
 * runs transactions one at a time, so one awaited inside another would wait for itself).
 */
import type { Random } from './challenge.ts';
import type { MaterialCache } from './match.ts';
import type { ScryptCost } from './password.ts';
import { dayMs } from './limits.ts';
import type { IssueLimits } from './rate-limit.ts';
import type { Sealer } from './seal.ts';
import type { AuditEntry, Store, StoreTx } from './store.ts';

export interface HostCore {
  readonly store: Store;
  readonly sealer: Sealer;
  /** Keys the HMAC of temporary codes (derived from the host key). */
  readonly macKey: Uint8Array;
  readonly now: () => number;
  readonly random: Random;
  /** Consecutive failures that lock a device. */
  readonly lockLimit: number;
  readonly challengeTtlMs: number;
  readonly issueLimits: IssueLimits;
  /** The scrypt cost of new password hashes. */
  readonly passwordCost: ScryptCost;
  /** Unsealed keys by serial, for as long as the host is open. */
  readonly materials: MaterialCache;
  /** How long audit entries are kept (`auditKeepMsDefault`). */
  readonly auditKeepMs: number;
  /** Audit entries this host has written (shared by every transaction's core: it paces the pruning). */
  readonly auditWrites: { count: number };
}

/**
 * How long the audit keeps an entry by default: over a year, as audit-trail rules commonly ask (PCI DSS v4.0
 * 10.5.1: twelve months of history). Without a bound the table grows by every login for ever.
 */
export const auditKeepMsDefault = 400 * dayMs;
/** The keep time an operator may set: a day at least (the audit is what an incident is read from), 100 years at most. */
export const auditKeepMsMin = dayMs;
export const auditKeepMsMax = 36_500 * dayMs;
/**
 * Every `auditPruneEveryWrites`-th audit write first deletes the expired among the oldest `auditPrunedRowsMax`
 * entries: more rows than are written in between, so pruning keeps up with any write rate and catches up after
 * the keep time is shortened, in bounded steps; and one statement per eight writes, not per write.
 */
export const auditPruneEveryWrites = 8;
export const auditPrunedRowsMax = 16;

/** The core inside one transaction: `tx` is the only data handle a job uses, and the only thing it awaits. */
export interface TxCore extends HostCore {
  readonly tx: StoreTx;
}

/** Run `job` in one store transaction (all of it commits, or none of it). */
export function inTransaction<T>(core: HostCore, job: (core: TxCore) => Promise<T>): Promise<T> {
  return core.store.transaction((tx) => job({ ...core, tx }));
}

/** Write an audit entry, stamped now. */
export function audit(core: TxCore, entry: Omit<AuditEntry, 'atMs'>): Promise<void> {
  return write(core, { atMs: core.now(), ...entry });
}

/** The hot paths' audit call: one entry object, built once, with the time the caller already read. */
export function record(core: TxCore, atMs: number, user: string | null, serial: string | null, action: string, outcome: AuditEntry['outcome'], reason: string | null): Promise<void> {
  return write(core, { atMs, user, serial, action, outcome, reason });
}

/** The one place audit entries are written, and the old ones pruned (see `auditPruneEveryWrites`). */
async function write(core: TxCore, entry: AuditEntry): Promise<void> {
  if (++core.auditWrites.count % auditPruneEveryWrites === 0) await core.tx.pruneAudit(entry.atMs - core.auditKeepMs, auditPrunedRowsMax);
  await core.tx.audit(entry);
}
