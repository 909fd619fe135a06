/**
 * The calls a login server (or the login page) makes: start a login (the password, then a challenge for one
 * of the user's devices), verify the answer (a session on success), and, with that session, a server-side PIN
 * change and a withdrawal, each with its own challenge; the withdrawal limits by device kind. Answers are
 * bound to the purpose of the route they are sent to (the host refuses a login answer at a withdrawal route).
 * Every state change commits in the store's group commit before it is answered.
 */
import type { FastifyInstance } from 'fastify';
import { HostError, withdrawalLimits, type DeviceInfo, type Issued as HostIssued, type VerifyResult } from '../host/index.ts';
import type { ChallengePurpose } from '../host/store.ts';
import type { ServiceContext } from './context.ts';
import { problem, ProblemError } from './problem.ts';
import {
  Issued, LimitsReply, LoginStartBody, LoginStartReply, PinChangeStartBody, VerifyBody, VerifyOk, WithdrawalStartBody, WithdrawalStartReply, withProblems,
  type LoginStartBody as LoginStart, type PinChangeStartBody as PinChangeStart, type VerifyBody as Verify, type WithdrawalStartBody as WithdrawalStart,
} from './schemas.ts';

/** What the user may see of their devices: no other users, no failure counts. */
function publicDevice(d: DeviceInfo) {
  return { serial: d.serial, kind: d.kind, profile: d.profile, locked: d.locked };
}

async function activeDevices(context: ServiceContext, user: string) {
  return (await context.host.devices(user)).filter((d) => d.active).map(publicDevice);
}

function issuedReply(issued: HostIssued) {
  return { challenge: issued.challenge, device: issued.serial, expiresAtMs: issued.expiresAtMs, ...(issued.indexes && { indexes: [...issued.indexes] }) };
}

/** The words of a refusal, as `dsc host verify` prints them. */
function refusalDetail(result: { reason: string; retryAfterMs?: number; locked?: boolean; serial?: string }): string {
  if (result.reason === 'throttled') return `throttled: retry in ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s`;
  if (result.reason === 'malformed response') return `"response" expected the digits device ${result.serial ?? ''} shows`.replace('  ', ' ');
  return result.locked ? `${result.reason} (now locked)` : result.reason;
}

function refusal(result: { reason: string; retryAfterMs?: number; locked?: boolean; serial?: string }): ProblemError {
  return new ProblemError(problem(result.reason, refusalDetail(result), {
    ...(result.serial !== undefined && { serial: result.serial }),
    ...(result.retryAfterMs !== undefined && { retryAfterMs: result.retryAfterMs }),
    ...(result.locked !== undefined && { locked: result.locked }),
  }));
}

async function verifyFor(context: ServiceContext, purpose: ChallengePurpose, body: Verify) {
  const result: VerifyResult = await context.host.verify({ ...body, purpose });
  context.metrics.verification(purpose, result.ok ? null : result.reason);
  if (!result.ok) {
    if (result.locked) context.metrics.lock();
    throw refusal(result);
  }
  return {
    ok: true as const, device: result.serial, purpose: result.purpose,
    ...(result.amountUsd !== undefined && { amountUsd: result.amountUsd }),
    ...(result.session && { session: { token: result.session.token, expiresMs: result.session.expiresMs } }),
  };
}

export function publicRoutes(app: FastifyInstance, context: ServiceContext): void {
  const { host } = context;

  app.post<{ Body: LoginStart }>('/v1/login/start', {
    schema: { summary: "start a login: the password, then a fresh challenge for one of the user's devices", body: LoginStartBody, response: withProblems({ 200: LoginStartReply }) },
  }, async (request) => {
    const { user, password, device } = request.body;
    // The password hash is slow on purpose: the host runs it outside any transaction (its own short
    // transactions commit before this call returns).
    let login;
    try {
      login = await host.login({ user, password, ...(device !== undefined && { serial: device }) });
    } catch (error) {
      // The password was right and several devices are usable: the caller shows the choice (M2FS) and starts
      // again with one.
      if (error instanceof HostError && error.reason === 'choose device') {
        throw new ProblemError({ ...problem('choose device', error.message), devices: await activeDevices(context, user) } as never);
      }
      throw error;
    }
    if (!login.ok) {
      context.metrics.verification('password', login.reason);
      if (login.locked) context.metrics.lock();
      throw refusal(login);
    }
    context.metrics.verification('password', null);
    return { ...issuedReply(login.issued), devices: await activeDevices(context, user) };
  });

  app.post<{ Body: Verify }>('/v1/login/verify', {
    schema: { summary: 'check the answer to a login challenge: a session on success', body: VerifyBody, response: withProblems({ 200: VerifyOk }) },
  }, async (request) => verifyFor(context, 'login', request.body));

  app.post<{ Body: PinChangeStart }>('/v1/pin-change/start', {
    schema: { summary: 'start a server-side PIN change (dscplus, needs the session): answer the challenge with the NEW PIN', body: PinChangeStartBody, response: withProblems({ 200: Issued }) },
  }, async (request) => {
    const { user, session, device, newPin, confirmPin } = request.body;
    return issuedReply(await host.requestPinChange({ user, session, newPin, confirmPin, ...(device !== undefined && { serial: device }) }));
  });

  app.post<{ Body: Verify }>('/v1/pin-change/verify', {
    schema: { summary: 'check the answer made with the new PIN; commits the new PIN', body: VerifyBody, response: withProblems({ 200: VerifyOk }) },
  }, async (request) => verifyFor(context, 'pin-change', request.body));

  app.post<{ Body: WithdrawalStart }>('/v1/withdrawals/start', {
    schema: { summary: 'a challenge for a withdrawal (needs the session), from a device whose limits cover the amount', body: WithdrawalStartBody, response: withProblems({ 200: WithdrawalStartReply }) },
  }, async (request) => {
    const { user, session, amountUsd, device } = request.body;
    const issued = await host.authorizeWithdrawal({ user, session, amountUsd, ...(device !== undefined && { serial: device }) });
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
