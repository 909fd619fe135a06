/**
 * The first factor: a user's password (host/password.ts), and the login that checks it before a login
 * challenge is issued ("enter your user name and password as usual; if successful, a 6-digit challenge
 * appears"). A wrong password counts toward the account's lockout (host/lockout.ts).
 */
import type { HostCore } from './core.ts';
import { pickDevice, unusable } from './devices.ts';
import { HostError } from './errors.ts';
import { issue } from './issue.ts';
import { accountFailure, accountGate, accountOf, gateMessage } from './lockout.ts';
import { checkPassword, hashPassword, passwordMatches } from './password.ts';
import type { Issued } from './types.ts';
import { checkName, serialCharsMax, userCharsMax } from './validate.ts';

/** Set (or replace) a user's password: an administrator's act, or the user's after a login. */
export function setPassword(core: HostCore, input: { user: string; password: string; by?: string }): void {
  const user = checkName('user', input.user, userCharsMax);
  const password = checkPassword(input.password);
  // Hashed before the transaction: the hash is slow on purpose, and holds no lock meanwhile.
  const passwordHash = hashPassword(password, core.random, core.passwordCost);
  core.store.transaction(() => {
    if (!core.store.userExists(user)) throw new HostError('unknown user', `unknown user ${JSON.stringify(user)} (enroll a device for the user first)`, true);
    core.store.putAccount({ ...accountOf(core, user), passwordHash });
    core.audit({ user, serial: null, action: 'set-password', outcome: 'ok', reason: `by ${input.by ?? 'administrator'}` });
  });
}

export type PasswordLogin = { ok: true; issued: Issued } | { ok: false; reason: 'wrong password' | 'locked' | 'throttled'; locked?: boolean; retryAfterMs?: number };

/**
 * Check the password, then issue a login challenge for one of the user's devices. Unknown users and users
 * without a password get the same "wrong password" as a wrong one (and the same hash cost), so the answer
 * does not tell which user names exist.
 */
export function passwordLogin(core: HostCore, input: { user: string; password: string; serial?: string }): PasswordLogin {
  const user = checkName('user', input.user, userCharsMax);
  const password = checkPassword(input.password);
  const serial = input.serial === undefined ? undefined : checkName('device serial', input.serial, serialCharsMax);
  const nowMs = core.now();
  const before = core.store.transaction(() => ({ gate: accountGate(core, user, nowMs), hash: core.store.userExists(user) ? accountOf(core, user).passwordHash : null }));
  if (!before.gate.ok) {
    core.store.transaction(() => core.audit({ user, serial: null, action: 'login', outcome: 'refused', reason: gateMessage(user, before.gate as Exclude<typeof before.gate, { ok: true }>) }));
    return before.gate.reason === 'locked' ? { ok: false, reason: 'locked', locked: true } : { ok: false, reason: 'throttled', retryAfterMs: before.gate.retryAfterMs };
  }
  // The slow check runs outside the transaction; the decision is taken again inside it.
  const matches = passwordMatches(password, before.hash ?? dummyHash(core));
  return core.store.transaction((): PasswordLogin => {
    const gate = accountGate(core, user, core.now());
    if (!gate.ok) return gate.reason === 'locked' ? { ok: false, reason: 'locked', locked: true } : { ok: false, reason: 'throttled', retryAfterMs: gate.retryAfterMs };
    if (!matches || before.hash === null) {
      if (!core.store.userExists(user)) {
        core.audit({ user, serial: null, action: 'login', outcome: 'failed', reason: 'unknown user' });
        return { ok: false, reason: 'wrong password' };
      }
      const account = accountFailure(core, user, nowMs, before.hash === null ? 'login without a password set' : 'wrong password');
      return { ok: false, reason: 'wrong password', locked: account.locked };
    }
    core.audit({ user, serial: null, action: 'login', outcome: 'ok', reason: 'password verified' });
    const row = pickDevice(core, user, serial, (r) => unusable(r, nowMs));
    return { ok: true, issued: issue(core, row, user, 'login', nowMs) };
  });
}

/** A hash of nothing under the current cost, made once per host: unknown users cost as much as known ones. */
const dummies = new WeakMap<HostCore, string>();
function dummyHash(core: HostCore): string {
  let hash = dummies.get(core);
  if (!hash) dummies.set(core, (hash = hashPassword('\u0000not a password\u0000', core.random, core.passwordCost)));
  return hash;
}
