/**
 * Withdrawals: a live session (from a login), then a fresh response from a device whose limits cover the amount and the user's running daily and
 * five-business-day totals; the withdrawal is recorded when that response verifies (host/verify.ts).
 */
import { inTransaction, type HostCore } from './core.ts';
import { pickDevice, unusable } from './devices.ts';
import { HostError } from './errors.ts';
import { issue } from './issue.ts';
import { requireSession } from './session.ts';
import { businessWindowStartMs, dayStartMs, withdrawalAllowed } from './limits.ts';
import type { Issued } from './types.ts';
import { checkName, serialCharsMax, userCharsMax } from './validate.ts';

/** Withdrawals are whole US dollars up to this amount. */
export const amountUsdMax = 1_000_000_000_000;

export function authorizeWithdrawal(core: HostCore, input: { user: string; session: string; amountUsd: number; serial?: string }): Promise<Issued & { amountUsd: number }> {
  const user = checkName('user', input.user, userCharsMax);
  const amountUsd = input.amountUsd;
  if (!Number.isSafeInteger(amountUsd) || amountUsd < 1 || amountUsd > amountUsdMax) {
    throw new HostError('bad input', `the amount expected whole US dollars 1..${amountUsdMax}, got ${amountUsd}`, true);
  }
  const serial = input.serial === undefined ? undefined : checkName('device serial', input.serial, serialCharsMax);
  return inTransaction(core, async (core) => {
    const store = core.tx;
    const nowMs = core.now();
    await requireSession(core, user, input.session, nowMs);
    const known = await store.userExists(user);
    const today = known ? await store.withdrawnSince(user, dayStartMs(nowMs)) : 0;
    const window = known ? await store.withdrawnSince(user, businessWindowStartMs(nowMs)) : 0;
    const row = await pickDevice(core, user, serial, (r) => {
      const why = unusable(r, nowMs);
      if (why) return why;
      const allowed = withdrawalAllowed(r.kind, amountUsd, today, window);
      return allowed.ok ? null : allowed.reason;
    });
    return { ...(await issue(core, row, user, 'withdrawal', nowMs, { amountUsd })), amountUsd };
  });
}
