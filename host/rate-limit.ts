/**
 * Rate limits on issuing challenges, per account and per device, in fixed windows: an issue past the limit is
 * refused with the time to wait. Without them anyone who knows a user name could draw challenges until the
 * device's space of never-issued challenges runs out (a denial of service, and a database that grows).
 */
import { HostError } from './errors.ts';
import type { StoreTx } from './store.ts';

export interface IssueLimits {
  /** Challenges per account per window (every purpose counts). */
  readonly perAccount: number;
  /** Challenges per device per window. */
  readonly perDevice: number;
  readonly windowMs: number;
}

export const issueLimitsDefault: IssueLimits = { perAccount: 30, perDevice: 30, windowMs: 60 * 60_000 };

/** What the limits need of a job's core (host/core.ts TxCore has it): named here so core.ts need not be imported. */
interface RateCore {
  readonly tx: Pick<StoreTx, 'rateWindow' | 'putRateWindow'>;
  readonly issueLimits: IssueLimits;
}

/** Count one event for `key`, or throw (writing nothing) when the window is full. */
async function take(core: RateCore, key: string, limit: number, windowMs: number, nowMs: number, what: string): Promise<void> {
  const window = await core.tx.rateWindow(key);
  // A window that starts a little after `nowMs` is the current one: several verifiers (or one verifier's
  // concurrent calls on PostgreSQL) read the clock before they wait for this row, so the one that waited may
  // hold an earlier time than the window's start; treating that as a new window would reset the count.
  // Only a clock that went back by more than a whole window starts afresh.
  const fresh = !window || nowMs >= window.windowStartMs + windowMs || nowMs < window.windowStartMs - windowMs;
  const count = fresh ? 0 : window.count;
  if (count >= limit) {
    const retryAfterMs = window!.windowStartMs + windowMs - nowMs;
    throw new HostError('rate limited', `${what}: ${limit} challenges per ${windowMs / 60_000} min reached; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
  await core.tx.putRateWindow(key, { windowStartMs: fresh ? nowMs : window.windowStartMs, count: count + 1 });
}

/** Both limits for one challenge: the account's and the device's. */
export async function takeIssue(core: RateCore, user: string, serial: string, nowMs: number): Promise<void> {
  const limits = core.issueLimits;
  await take(core, `issue:user:${user}`, limits.perAccount, limits.windowMs, nowMs, `account ${user}`);
  await take(core, `issue:device:${serial}`, limits.perDevice, limits.windowMs, nowMs, `device ${serial}`);
}
