/**
 * The first factor: a user's password (host/password.ts), and the login that checks it before a login
 * challenge is issued ("enter your user name and password as usual; if successful, a 6-digit challenge
 * appears"). A wrong password counts toward the account's lockout (host/lockout.ts).
 */
import { audit, inTransaction, type HostCore } from './core.ts';
import { pickDevice, unusable } from './devices.ts';
import { HostError } from './errors.ts';
import { issue } from './issue.ts';
import { accountFailure, accountGate, accountOf, gateMessage } from './lockout.ts';
import { checkPassword, hashPassword, passwordMatches } from './password.ts';
import type { Issued } from './types.ts';
import { checkName, serialCharsMax, userCharsMax } from './validate.ts';

/** Set (or replace) a user's password: an administrator's act, or the user's after a login. */
export async function setPassword(core: HostCore, input: { user: string; password: string; by?: string }): Promise<void> {
  const user = checkName('user', input.user, userCharsMax);
  const password = checkPassword(input.password);
  // Hashed before the transaction: the hash is slow on purpose, and holds no lock meanwhile.
  const passwordHash = await hashPassword(password, core.random, core.passwordCost);
  await inTransaction(core, async (core) => {
    if (!(await core.tx.userExists(user))) throw new HostError('unknown user', `unknown user ${JSON.stringify(user)} (enroll a device for the user first)`, true);
    await core.tx.putAccount({ ...(await accountOf(core, user)), passwordHash });
    await audit(core, { user, serial: null, action: 'set-password', outcome: 'ok', reason: `by ${input.by ?? 'administrator'}` });
  });
}

/** Whether the user has a password (the first factor) yet. */
export function hasPassword(core: HostCore, user: string): Promise<boolean> {
  return inTransaction(core, async (core) => ((await core.tx.account(user))?.passwordHash ?? null) !== null);
}

export type PasswordLogin = { ok: true; issued: Issued } | { ok: false; reason: 'wrong password' | 'locked' | 'throttled'; locked?: boolean; retryAfterMs?: number };

/**
 * Check the password, then issue a login challenge for one of the user's devices. Unknown users and users
 * without a password get the same "wrong password" as a wrong one (and the same hash cost), so the answer
 * does not tell which user names exist. Three steps: read the account (a transaction), hash the password
 * (outside any transaction: it is slow), then decide again inside a second transaction (the account may have
 * changed meanwhile). A 'busy' refusal of the hash (host/password.ts) throws before anything is counted.
 */
export async function passwordLogin(core: HostCore, input: { user: string; password: string; serial?: string }): Promise<PasswordLogin> {
  const user = checkName('user', input.user, userCharsMax);
  const password = checkPassword(input.password);
  const serial = input.serial === undefined ? undefined : checkName('device serial', input.serial, serialCharsMax);
  const nowMs = core.now();
  const before = await inTransaction(core, async (core) => {
    const gate = await accountGate(core, user, nowMs);
    const hash = (await core.tx.userExists(user)) ? (await accountOf(core, user)).passwordHash : null;
    if (!gate.ok) await audit(core, { user, serial: null, action: 'login', outcome: 'refused', reason: gateMessage(user, gate) });
    return { gate, hash };
  });
  if (!before.gate.ok) {
    return before.gate.reason === 'locked' ? { ok: false, reason: 'locked', locked: true } : { ok: false, reason: 'throttled', retryAfterMs: before.gate.retryAfterMs };
  }
  // The slow check runs outside the transaction; the decision is taken again inside it.
  const matches = await passwordMatches(password, before.hash ?? (await dummyHash(core)));
  return inTransaction(core, async (core): Promise<PasswordLogin> => {
    const gate = await accountGate(core, user, core.now());
    if (!gate.ok) return gate.reason === 'locked' ? { ok: false, reason: 'locked', locked: true } : { ok: false, reason: 'throttled', retryAfterMs: gate.retryAfterMs };
    if (!matches || before.hash === null) {
      if (!(await core.tx.userExists(user))) {
        await audit(core, { user, serial: null, action: 'login', outcome: 'failed', reason: 'unknown user' });
        return { ok: false, reason: 'wrong password' };
      }
      const account = await accountFailure(core, user, nowMs, before.hash === null ? 'login without a password set' : 'wrong password');
      return { ok: false, reason: 'wrong password', locked: account.locked };
    }
    await audit(core, { user, serial: null, action: 'login', outcome: 'ok', reason: 'password verified' });
    const row = await pickDevice(core, user, serial, (r) => unusable(r, nowMs));
    return { ok: true, issued: await issue(core, row, user, 'login', nowMs) };
  });
}

/** A hash of nothing under the current cost, made once per host: unknown users cost as much as known ones. */
const dummies = new WeakMap<HostCore, Promise<string>>();
function dummyHash(core: HostCore): Promise<string> {
  let hash = dummies.get(core);
  if (!hash) {
    hash = hashPassword('\u0000not a password\u0000', core.random, core.passwordCost);
    dummies.set(core, hash);
    // A refused ('busy') first hash is not kept: the next login makes it again.
    hash.catch(() => dummies.delete(core));
  }
  return hash;
}
