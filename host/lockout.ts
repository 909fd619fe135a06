/**
 * The account's lockout, across every factor (password, device responses, temporary codes, code-card codes,
 * answers given for the wrong purpose): `lockLimit` consecutive failures (default 10, at most 100: NIST SP
 * 800-63B §5.2.2) lock the account until an administrator unlocks it, with the growing delays of
 * host/throttle.ts before that. Only a completed login (a correct device response or temporary code) resets
 * the count: a correct password alone does not, or a thief who knows it could keep guessing responses.
 * A device still counts and locks on its own as well.
 */
import { audit, type TxCore } from './core.ts';
import type { AccountRow } from './store.ts';
import { failureDelayMs } from './throttle.ts';

export async function accountOf(core: TxCore, user: string): Promise<AccountRow> {
  return (await core.tx.account(user)) ?? { user, passwordHash: null, failures: 0, locked: false, notBeforeMs: 0 };
}

export type Gate = { ok: true } | { ok: false; reason: 'locked' } | { ok: false; reason: 'throttled'; retryAfterMs: number };

/** Whether the account may make an attempt of any factor now. */
export async function accountGate(core: TxCore, user: string, nowMs: number): Promise<Gate> {
  const account = await accountOf(core, user);
  if (account.locked) return { ok: false, reason: 'locked' };
  if (nowMs < account.notBeforeMs) return { ok: false, reason: 'throttled', retryAfterMs: account.notBeforeMs - nowMs };
  return { ok: true };
}

/** Count one failed attempt of `factor`; returns the new count and whether the account is now locked. */
export async function accountFailure(core: TxCore, user: string, nowMs: number, factor: string): Promise<{ failures: number; locked: boolean }> {
  const account = await accountOf(core, user);
  const failures = account.failures + 1;
  const locked = failures >= core.lockLimit;
  await core.tx.putAccount({ ...account, failures, locked, notBeforeMs: nowMs + failureDelayMs(failures) });
  await audit(core, { user, serial: null, action: 'account', outcome: 'failed', reason: locked ? `${factor}: account locked after ${failures} failures` : `${factor} (${failures} consecutive)` });
  return { failures, locked };
}

/** A completed login: the account's count starts again. */
export async function accountSuccess(core: TxCore, user: string): Promise<void> {
  const account = await core.tx.account(user);
  if (account && (account.failures !== 0 || account.notBeforeMs !== 0)) await core.tx.putAccount({ ...account, failures: 0, locked: false, notBeforeMs: 0 });
}

/** Administrator unlock of the account. */
export async function accountUnlock(core: TxCore, user: string): Promise<AccountRow> {
  const account = await accountOf(core, user);
  await core.tx.putAccount({ ...account, failures: 0, locked: false, notBeforeMs: 0 });
  return account;
}

/** The message of a closed gate, for a HostError. */
export function gateMessage(user: string, gate: Exclude<Gate, { ok: true }>): string {
  return gate.reason === 'locked'
    ? `account ${user} is locked after too many failed attempts (an administrator must unlock it: dsc host unlock --user ${user})`
    : `account ${user} is throttled after failed attempts: retry in ${Math.ceil(gate.retryAfterMs / 1000)} s`;
}
