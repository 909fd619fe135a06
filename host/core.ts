/**
 * What every part of the verifier shares: the store, the sealer, the clock, the random source, the limits and
 * the audit call. Each job (enrolment, issue, matching, verification, withdrawals, PIN change, admin) is a set
 * of functions over this core; host/host.ts is the facade that holds one.
 */
import type { Random } from './challenge.ts';
import type { MaterialCache } from './match.ts';
import type { ScryptCost } from './password.ts';
import type { IssueLimits } from './rate-limit.ts';
import type { Sealer } from './seal.ts';
import type { AuditEntry, Store } from './store.ts';

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
  audit(entry: Omit<AuditEntry, 'atMs'>): void;
}

/** The hot paths' audit call: one entry object, built once, with the time the caller already read. */
export function record(core: HostCore, atMs: number, user: string | null, serial: string | null, action: string, outcome: AuditEntry['outcome'], reason: string | null): void {
  core.store.audit({ atMs, user, serial, action, outcome, reason });
}

