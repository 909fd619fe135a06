/**
 * The fallbacks of a user without their card: support issues a temporary code (an admin call, in
 * routes-admin.ts), the user checks it here (full access for 2 days, then only printing an online Security
 * Code Card) and prints that card. Guesses count toward the account's lockout (host/fallbacks.ts). An unknown
 * user, a user without a code and a wrong code get the same answer, `wrong code`: the reply does not tell
 * which user names exist or hold a code.
 */
import type { FastifyInstance } from 'fastify';
import { HostError } from '../host/index.ts';
import type { ServiceContext } from './context.ts';
import { problem, ProblemError } from './problem.ts';
import { CodeCardBody, CodeCardReply, TempCodeCheckBody, TempCodeCheckReply, withProblems, type CodeCardBody as CodeCard, type TempCodeCheckBody as TempCodeCheck } from './schemas.ts';

const hidden = new Set(['unknown user', 'no temporary code', 'wrong code']);

export function fallbackRoutes(app: FastifyInstance, context: ServiceContext): void {
  const { host } = context;

  app.post<{ Body: TempCodeCheck }>('/v1/temp-code/check', {
    schema: { summary: 'what a temporary code allows now: full access, or only printing an online code card', body: TempCodeCheckBody, response: withProblems({ 200: TempCodeCheckReply }) },
  }, async (request) => {
    const result = await host.checkTempCode(request.body);
    context.metrics.verification('temp-code', result.ok ? null : result.reason);
    if (result.ok) return { ok: true as const, access: result.access };
    if (result.locked) context.metrics.lock();
    const reason = hidden.has(result.reason) ? 'wrong code' : result.reason;
    throw new ProblemError(problem(reason, reason === 'throttled' ? `throttled: retry in ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s` : reason, {
      ...(result.retryAfterMs !== undefined && { retryAfterMs: result.retryAfterMs }),
      ...(result.locked !== undefined && { locked: result.locked }),
    }));
  });

  app.post<{ Body: CodeCard }>('/v1/code-card', {
    schema: { summary: 'an online Security Code Card (224 codes, 21 days), with a valid temporary code', body: CodeCardBody, response: withProblems({ 200: CodeCardReply }) },
  }, async (request) => {
    try {
      const card = await host.issueCodeCard(request.body);
      return { device: card.serial, codes: card.codes, expiresMs: card.expiresMs };
    } catch (error) {
      if (error instanceof HostError && hidden.has(error.reason)) throw new ProblemError(problem('wrong code', 'no online card: temporary code refused (wrong code)'));
      throw error;
    }
  });
}
