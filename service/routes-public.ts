/**
 * The calls a login server (or the login page) makes: start a login (a challenge for one of the user's
 * devices), verify the answer, and the same pair for a server-side PIN change and a withdrawal; the withdrawal
 * limits by device kind. Every call that writes goes through the group commit.
 */
import type { FastifyInstance } from 'fastify';
import { HostError, withdrawalLimits, type DeviceInfo, type VerifyResult } from '../host/index.ts';
import type { ChallengePurpose } from '../host/store.ts';
import { ProblemError, type ServiceContext } from './app.ts';
import { problem } from './problem.ts';
import {
  Issued, LimitsReply, LoginStartBody, LoginStartReply, PinChangeStartBody, VerifyBody, VerifyOk, WithdrawalStartBody, WithdrawalStartReply, withProblems,
  type LoginStartBody as LoginStart, type PinChangeStartBody as PinChangeStart, type VerifyBody as Verify, type WithdrawalStartBody as WithdrawalStart,
} from './schemas.ts';

/** What a caller before the login may see of a device: no users, no failure counts. */
function publicDevice(d: DeviceInfo) {
  return { serial: d.serial, kind: d.kind, profile: d.profile, locked: d.locked };
}

function activeDevices(context: ServiceContext, user: string) {
  return context.host.devices(user).filter((d) => d.active).map(publicDevice);
}

function issuedReply(issued: { challenge: string; serial: string; expiresAtMs: number; indexes?: readonly [number, number] }) {
  return { challenge: issued.challenge, device: issued.serial, expiresAtMs: issued.expiresAtMs, ...(issued.indexes && { indexes: [...issued.indexes] }) };
}

/** The words of a refusal, as `dsc host verify` prints them. */
function refusalDetail(result: Extract<VerifyResult, { ok: false }>): string {
  if (result.reason === 'throttled') return `throttled: retry in ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s`;
  if (result.reason === 'malformed response') return `"response" expected the digits device ${result.serial ?? ''} shows`.replace('  ', ' ');
  return result.locked ? `${result.reason} (device now locked)` : result.reason;
}

async function verifyFor(context: ServiceContext, purpose: ChallengePurpose, body: Verify) {
  const result = await context.commits.run(() => context.host.verify(body));
  if (!result.ok) {
    context.metrics.verification(purpose, result.reason);
    if (result.locked) context.metrics.lock();
    throw new ProblemError(problem(result.reason, refusalDetail(result), {
      ...(result.serial !== undefined && { serial: result.serial }),
      ...(result.retryAfterMs !== undefined && { retryAfterMs: result.retryAfterMs }),
      ...(result.locked !== undefined && { locked: result.locked }),
    }));
  }
  context.metrics.verification(result.purpose, null);
  if (result.purpose !== purpose) {
    // The host of this phase does not bind an answer to its purpose before consuming it (issue 11 adds that);
    // the service at least never reports a success for the wrong purpose.
    throw new ProblemError(problem('refused', `that challenge was issued for ${result.purpose}, not ${purpose}`));
  }
  return { ok: true as const, device: result.serial, purpose: result.purpose, ...(result.amountUsd !== undefined && { amountUsd: result.amountUsd }) };
}

export function publicRoutes(app: FastifyInstance, context: ServiceContext): void {
  const { host, commits } = context;

  app.post<{ Body: LoginStart }>('/v1/login/start', {
    schema: { summary: 'start a login: a fresh challenge for one of the user\'s devices', body: LoginStartBody, response: withProblems({ 200: LoginStartReply }) },
  }, async (request) => {
    const { user, device } = request.body;
    try {
      const issued = await commits.run(() => host.challenge({ user, ...(device !== undefined && { serial: device }) }));
      return { ...issuedReply(issued), devices: activeDevices(context, user) };
    } catch (error) {
      // Several usable devices and none chosen: the caller shows the choice (M2FS) and starts again with one.
      if (error instanceof HostError && error.reason === 'choose device') {
        throw new ProblemError({ ...problem('choose device', error.message), devices: activeDevices(context, user) } as never);
      }
      throw error;
    }
  });

  app.post<{ Body: Verify }>('/v1/login/verify', {
    schema: { summary: 'check the answer to a login challenge', body: VerifyBody, response: withProblems({ 200: VerifyOk }) },
  }, async (request) => verifyFor(context, 'login', request.body));

  app.post<{ Body: PinChangeStart }>('/v1/pin-change/start', {
    schema: { summary: 'start a server-side PIN change (dscplus): answer the challenge with the NEW PIN', body: PinChangeStartBody, response: withProblems({ 200: Issued }) },
  }, async (request) => {
    const { user, device, newPin, confirmPin } = request.body;
    return issuedReply(await commits.run(() => host.requestPinChange({ user, newPin, confirmPin, ...(device !== undefined && { serial: device }) })));
  });

  app.post<{ Body: Verify }>('/v1/pin-change/verify', {
    schema: { summary: 'check the answer made with the new PIN; commits the new PIN', body: VerifyBody, response: withProblems({ 200: VerifyOk }) },
  }, async (request) => verifyFor(context, 'pin-change', request.body));

  app.post<{ Body: WithdrawalStart }>('/v1/withdrawals/start', {
    schema: { summary: 'a challenge for a withdrawal, from a device whose limits cover the amount', body: WithdrawalStartBody, response: withProblems({ 200: WithdrawalStartReply }) },
  }, async (request) => {
    const { user, amountUsd, device } = request.body;
    const issued = await commits.run(() => host.authorizeWithdrawal({ user, amountUsd, ...(device !== undefined && { serial: device }) }));
    return { ...issuedReply(issued), amountUsd: issued.amountUsd };
  });

  app.post<{ Body: Verify }>('/v1/withdrawals/verify', {
    schema: { summary: 'check the answer; records the withdrawal', body: VerifyBody, response: withProblems({ 200: VerifyOk }) },
  }, async (request) => verifyFor(context, 'withdrawal', request.body));

  app.get('/v1/limits', {
    schema: { summary: 'withdrawal limits by device kind (null: unlimited)', response: withProblems({ 200: LimitsReply }) },
  }, async () => ({
    limits: Object.entries(withdrawalLimits).map(([kind, limit]) => ({
      kind,
      dailyUsd: Number.isFinite(limit.dailyUsd) ? limit.dailyUsd : null,
      fiveBusinessDaysUsd: Number.isFinite(limit.fiveBusinessDaysUsd) ? limit.fiveBusinessDaysUsd : null,
    })),
  }));
}
