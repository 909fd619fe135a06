/**
 * The verification policy: which challenge a response answers, whether the account and the device may answer
 * now (lock, throttle, expiry, attempts, assignment), what a failure costs (the device's count and the
 * account's) and what a success commits (a session, a withdrawal, a new PIN).
 * Atomic: the challenge is consumed and the counters updated in one transaction, so two verifiers racing on
 * one challenge give one success.
 */
import { audit, inTransaction, record, type HostCore, type TxCore } from './core.ts';
import { HostError } from './errors.ts';
import { businessWindowStartMs, dayStartMs, withdrawalAllowed } from './limits.ts';
import { accountFailure, accountGate, accountSuccess } from './lockout.ts';
import { matchResponse, responseShape } from './match.ts';
import { pinChangeContext, pinContext } from './seal.ts';
import { createSession } from './session.ts';
import { challengePurposes } from './store.ts';
import { failureDelayMs } from './throttle.ts';
import type { VerifyInput, VerifyReason, VerifyResult } from './types.ts';
import { checkName, userCharsMax } from './validate.ts';

/** Response attempts per challenge. */
export const attemptsPerChallengeMax = 3;

async function refuse(core: TxCore, user: string, serial: string, reason: VerifyReason, retryAfterMs?: number): Promise<VerifyResult> {
  await record(core, core.now(), user, serial, 'verify', 'refused', reason);
  return retryAfterMs === undefined ? { ok: false, reason, serial } : { ok: false, reason, serial, retryAfterMs };
}

export function verify(core: HostCore, input: VerifyInput): Promise<VerifyResult> {
  const user = checkName('user', input.user, userCharsMax);
  if (typeof input.challenge !== 'string' || typeof input.response !== 'string') {
    throw new HostError('bad input', 'the challenge and the response expected strings', true);
  }
  if (!(challengePurposes as readonly unknown[]).includes(input.purpose)) {
    throw new HostError('bad input', `the purpose expected one of ${challengePurposes.join(', ')}, got ${JSON.stringify(String(input.purpose).slice(0, 20))}`, true);
  }
  const shown = input.challenge.trim();
  const response = input.response.trim();
  return inTransaction(core, async (core): Promise<VerifyResult> => {
    const store = core.tx;
    const rows = await store.challengesFor(user, shown);
    if (rows.length === 0 && !(await store.userExists(user))) return { ok: false, reason: 'unknown user' };
    const challenge = rows.find((r) => r.state === 'open') ?? rows[0];
    if (!challenge) {
      await audit(core, { user, serial: null, action: 'verify', outcome: 'refused', reason: 'unknown challenge' });
      return { ok: false, reason: 'unknown challenge' };
    }
    const row = (await store.device(challenge.serial))!;
    const serial = row.serial;
    if (!responseShape(row).test(response)) return { ok: false, reason: 'malformed response', serial };
    const nowMs = core.now();
    const gate = await accountGate(core, user, nowMs);
    if (row.locked || (!gate.ok && gate.reason === 'locked')) return refuse(core, user, serial, 'locked');
    if (challenge.purpose !== input.purpose) {
      // A response phished for one purpose offered for another: an attack, and counted as one.
      const account = await accountFailure(core, user, nowMs, `answer to a ${challenge.purpose} challenge offered for ${input.purpose}`);
      await record(core, nowMs, user, serial, 'verify', 'refused', 'wrong purpose');
      return { ok: false, reason: 'wrong purpose', serial, locked: account.locked };
    }
    if (challenge.state === 'used') return refuse(core, user, serial, 'already used');
    if (row.expiresMs !== null && nowMs >= row.expiresMs) return refuse(core, user, serial, 'expired');
    if (challenge.state === 'exhausted') return refuse(core, user, serial, 'attempts exhausted');
    if (challenge.state === 'expired' || nowMs >= challenge.expiresMs) {
      if (challenge.state === 'open') await store.updateChallenge(challenge.id, challenge.attempts, 'expired');
      return refuse(core, user, serial, 'expired');
    }
    // A device withdrawn after the challenge was issued cannot answer it.
    if (!(await store.activeAssignment(user, serial))) return refuse(core, user, serial, 'device inactive');
    // The account's wait and the device's: the longer one.
    const waitMs = Math.max(row.notBeforeMs - nowMs, gate.ok ? 0 : gate.retryAfterMs);
    if (waitMs > 0) return refuse(core, user, serial, 'throttled', waitMs);

    const match = matchResponse(core.sealer, core.materials, nowMs, row, challenge, response);
    const attempts = challenge.attempts + 1;
    if (!match) {
      const failures = row.failures + 1;
      const deviceLocked = failures >= core.lockLimit;
      await store.updateChallenge(challenge.id, attempts, attempts >= attemptsPerChallengeMax ? 'exhausted' : 'open');
      await store.updateDeviceState(serial, { counter: row.counter, lastTimeStep: row.lastTimeStep, failures, locked: deviceLocked, notBeforeMs: nowMs + failureDelayMs(failures) });
      await audit(core, { user, serial, action: 'verify', outcome: 'failed', reason: deviceLocked ? `wrong response; device locked after ${failures} failures` : `wrong response (${failures} consecutive)` });
      const account = await accountFailure(core, user, nowMs, `wrong response from ${serial}`);
      return { ok: false, reason: 'wrong response', serial, locked: deviceLocked || account.locked };
    }
    if (challenge.purpose === 'withdrawal') {
      const amount = challenge.amountUsd ?? 0;
      const allowed = withdrawalAllowed(row.kind, amount, await store.withdrawnSince(user, dayStartMs(nowMs)), await store.withdrawnSince(user, businessWindowStartMs(nowMs)));
      if (!allowed.ok) {
        await store.updateChallenge(challenge.id, attempts, 'used');
        return refuse(core, user, serial, 'limit exceeded');
      }
      await store.insertWithdrawal(user, serial, amount, nowMs);
    }
    if (challenge.purpose === 'pin-change' && challenge.sealedPayload) {
      const pin = core.sealer.open(pinChangeContext(serial), challenge.sealedPayload);
      await store.updateDeviceKey(serial, row.sealedSecret, core.sealer.seal(pinContext(serial), pin));
      pin.fill(0);
    }
    await store.updateChallenge(challenge.id, attempts, 'used');
    if (match.counter !== row.counter || match.lastTimeStep !== row.lastTimeStep || row.failures !== 0 || row.notBeforeMs !== 0) {
      await store.updateDeviceState(serial, { counter: match.counter, lastTimeStep: match.lastTimeStep, failures: 0, locked: false, notBeforeMs: 0 });
    }
    await accountSuccess(core, user);
    // "Never two temporary codes in a row" holds until a login with a permanent device: an online code card
    // printed with the temporary code does not count.
    const temp = await store.tempCode(user);
    if (temp?.blocksNext && row.profile !== 'code-card') await store.putTempCode({ ...temp, blocksNext: false });
    if (challenge.purpose === 'login') {
      await record(core, nowMs, user, serial, 'verify', 'ok', null);
      return { ok: true, serial, purpose: 'login', session: await createSession(core, user, serial, nowMs) };
    }
    await record(core, nowMs, user, serial, challenge.purpose, 'ok', challenge.purpose === 'withdrawal' ? `USD ${challenge.amountUsd} authorized` : null);
    return challenge.amountUsd === null ? { ok: true, serial, purpose: challenge.purpose } : { ok: true, serial, purpose: challenge.purpose, amountUsd: challenge.amountUsd };
  });
}
