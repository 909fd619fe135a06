/**
 * The verification policy: which challenge a response answers, whether the device may answer now (lock,
 * throttle, expiry, attempts), what a failure costs and what a success commits (withdrawal, new PIN).
 * Atomic: the challenge is consumed and the device's counters updated in one transaction, so two verifiers
 * racing on one challenge give one success.
 */
import { record, type HostCore } from './core.ts';
import { HostError } from './errors.ts';
import { businessWindowStartMs, dayStartMs, withdrawalAllowed } from './limits.ts';
import { matchResponse, responseShape } from './match.ts';
import { pinChangeContext, pinContext } from './seal.ts';
import { failureDelayMs } from './throttle.ts';
import type { VerifyReason, VerifyResult } from './types.ts';
import { checkName, userCharsMax } from './validate.ts';

/** Response attempts per challenge. */
export const attemptsPerChallengeMax = 3;

function refuse(core: HostCore, user: string, serial: string, reason: VerifyReason, retryAfterMs?: number): VerifyResult {
  record(core, core.now(), user, serial, 'verify', 'refused', reason);
  return retryAfterMs === undefined ? { ok: false, reason, serial } : { ok: false, reason, serial, retryAfterMs };
}

export function verify(core: HostCore, input: { user: string; challenge: string; response: string }): VerifyResult {
  const user = checkName('user', input.user, userCharsMax);
  if (typeof input.challenge !== 'string' || typeof input.response !== 'string') {
    throw new HostError('bad input', '"challenge" and "response" expected strings', true);
  }
  const shown = input.challenge.trim();
  const response = input.response.trim();
  const { store } = core;
  return store.transaction((): VerifyResult => {
    const rows = store.challengesFor(user, shown);
    // Challenges are only issued to existing users, and assignments are never deleted: with a row in hand
    // the user exists, so the lookup is only needed to tell "unknown user" from "unknown challenge".
    if (rows.length === 0 && !store.userExists(user)) return { ok: false, reason: 'unknown user' };
    const challenge = rows.find((r) => r.state === 'open') ?? rows[0];
    if (!challenge) {
      core.audit({ user, serial: null, action: 'verify', outcome: 'refused', reason: 'unknown challenge' });
      return { ok: false, reason: 'unknown challenge' };
    }
    const row = store.device(challenge.serial)!;
    const serial = row.serial;
    if (!responseShape(row).test(response)) return { ok: false, reason: 'malformed response', serial };
    const nowMs = core.now();
    if (row.locked) return refuse(core, user, serial, 'locked');
    if (challenge.state === 'used') return refuse(core, user, serial, 'already used');
    if (row.expiresMs !== null && nowMs >= row.expiresMs) return refuse(core, user, serial, 'expired');
    if (challenge.state === 'exhausted') return refuse(core, user, serial, 'attempts exhausted');
    if (challenge.state === 'expired' || nowMs >= challenge.expiresMs) {
      if (challenge.state === 'open') store.updateChallenge(challenge.id, challenge.attempts, 'expired');
      return refuse(core, user, serial, 'expired');
    }
    if (nowMs < row.notBeforeMs) return refuse(core, user, serial, 'throttled', row.notBeforeMs - nowMs);

    const match = matchResponse(core.sealer, core.materials, nowMs, row, challenge, response);
    const attempts = challenge.attempts + 1;
    if (!match) {
      const failures = row.failures + 1;
      const locked = failures >= core.lockLimit;
      store.updateChallenge(challenge.id, attempts, attempts >= attemptsPerChallengeMax ? 'exhausted' : 'open');
      store.updateDeviceState(serial, { counter: row.counter, lastTimeStep: row.lastTimeStep, failures, locked, notBeforeMs: nowMs + failureDelayMs(failures) });
      core.audit({ user, serial, action: 'verify', outcome: 'failed', reason: locked ? `wrong response; device locked after ${failures} failures` : `wrong response (${failures} consecutive)` });
      return { ok: false, reason: 'wrong response', serial, locked };
    }
    if (challenge.purpose === 'withdrawal') {
      const amount = challenge.amountUsd ?? 0;
      const allowed = withdrawalAllowed(row.kind, amount, store.withdrawnSince(user, dayStartMs(nowMs)), store.withdrawnSince(user, businessWindowStartMs(nowMs)));
      if (!allowed.ok) {
        store.updateChallenge(challenge.id, attempts, 'used');
        return refuse(core, user, serial, 'limit exceeded');
      }
      store.insertWithdrawal(user, serial, amount, nowMs);
    }
    if (challenge.purpose === 'pin-change' && challenge.sealedPayload) {
      const pin = core.sealer.open(pinChangeContext(serial), challenge.sealedPayload);
      store.updateDeviceKey(serial, row.sealedSecret, core.sealer.seal(pinContext(serial), pin));
      pin.fill(0);
    }
    store.updateChallenge(challenge.id, attempts, 'used');
    // Only write the device row when something changed.
    if (match.counter !== row.counter || match.lastTimeStep !== row.lastTimeStep || row.failures !== 0 || row.notBeforeMs !== 0) {
      store.updateDeviceState(serial, { counter: match.counter, lastTimeStep: match.lastTimeStep, failures: 0, locked: false, notBeforeMs: 0 });
    }
    const temp = store.tempCode(user);
    if (temp?.blocksNext) store.putTempCode({ ...temp, blocksNext: false });
    if (challenge.purpose === 'login') {
      record(core, nowMs, user, serial, 'verify', 'ok', null);
      return { ok: true, serial, purpose: 'login' };
    }
    record(core, nowMs, user, serial, challenge.purpose, 'ok', challenge.purpose === 'withdrawal' ? `USD ${challenge.amountUsd} authorized` : null);
    return challenge.amountUsd === null ? { ok: true, serial, purpose: challenge.purpose } : { ok: true, serial, purpose: challenge.purpose, amountUsd: challenge.amountUsd };
  });
}
