/**
 * The account's lockout, across every factor (password, device responses, temporary codes, code-card codes,
 * answers given for the wrong purpose): `lockLimit` consecutive failures (default 10, at most 100: NIST SP
 * 800-63B §5.2.2) lock the account until an administrator unlocks it, with the growing delays of
 * host/throttle.ts before that. Only a completed login (a correct device response or temporary code) resets
 * the count: a correct password alone does not, or a thief who knows it could keep guessing responses.
 * A device still counts and locks on its own as well.
 */
import type { HostCore } from './core.ts';
import type { AccountRow } from './store.ts';
import { failureDelayMs } from './throttle.ts';

export function accountOf(core: HostCore, user: string): AccountRow {
  return core.store.account(user) ?? { user, passwordHash: null, failures: 0, locked: false, notBeforeMs: 0 };
}

export type Gate = { ok: true } | { ok: false; reason: 'locked' } | { ok: false; reason: 'throttled'; retryAfterMs: number };

/** Whether the account may make an attempt of any factor now. */
export function accountGate(core: HostCore, user: string, nowMs: number): Gate {
  const account = accountOf(core, user);
  if (account.locked) return { ok: false, reason: 'locked' };
  if (nowMs < account.notBeforeMs) return { ok: false, reason: 'throttled', retryAfterMs: account.notBeforeMs - nowMs };
  return { ok: true };
}

/** Count one failed attempt of `factor`; returns the new count and whether the account is now locked. */
export function accountFailure(core: HostCore, user: string, nowMs: number, factor: string): { failures: number; locked: boolean } {
  const account = accountOf(core, user);
  const failures = account.failures + 1;
  const locked = failures >= core.lockLimit;
  core.store.putAccount({ ...account, failures, locked, notBeforeMs: nowMs + failureDelayMs(failures) });
  core.audit({ user, serial: null, action: 'account', outcome: 'failed', reason: locked ? `${factor}: account locked after ${failures} failures` : `${factor} (${failures} consecutive)` });
  return { failures, locked };
}

/** A completed login: the account's count starts again. */
export function accountSuccess(core: HostCore, user: string): void {
  const account = core.store.account(user);
  if (account && (account.failures !== 0 || account.notBeforeMs !== 0)) core.store.putAccount({ ...account, failures: 0, locked: false, notBeforeMs: 0 });
}

/** Administrator unlock of the account. */
export function accountUnlock(core: HostCore, user: string): AccountRow {
  const account = accountOf(core, user);
  core.store.putAccount({ ...account, failures: 0, locked: false, notBeforeMs: 0 });
  return account;
}

/** The message of a closed gate, for a HostError. */
export function gateMessage(user: string, gate: Exclude<Gate, { ok: true }>): string {
  return gate.reason === 'locked'
    ? `account ${user} is locked after too many failed attempts (an administrator must unlock it: dsc host unlock --user ${user})`
    : `account ${user} is throttled after failed attempts: retry in ${Math.ceil(gate.retryAfterMs / 1000)} s`;
}
