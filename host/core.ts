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
}

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
  return core.tx.audit({ atMs: core.now(), ...entry });
}

/** The hot paths' audit call: one entry object, built once, with the time the caller already read. */
export function record(core: TxCore, atMs: number, user: string | null, serial: string | null, action: string, outcome: AuditEntry['outcome'], reason: string | null): Promise<void> {
  return core.tx.audit({ atMs, user, serial, action, outcome, reason });
}
