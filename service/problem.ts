/**
 * Errors as RFC 9457 problem documents (`application/problem+json`): `type` names the reason, `status` the HTTP
 * status, `detail` says what was wrong (naming the bad field, never echoing a secret). The extension members
 * `ok: false` and `reason` carry the same reason words `dsc host` prints, so a client branches on `reason`.
 */

export const problemContentType = 'application/problem+json';

/** The reasons the service answers with, beyond the verifier's own, and the HTTP status of each. */
const statusByReason: Readonly<Record<string, number>> = {
  // What the caller sent: no change was made.
  'bad input': 400,
  'malformed response': 400,
  'pins differ': 400,
  'weak pin': 400,
  'not json': 400,
  'unknown user': 404,
  'unknown device': 404,
  'unknown challenge': 404,
  'not found': 404,
  'method not allowed': 405,
  'choose device': 409,
  'serial taken': 409,
  'body too large': 413,
  'unsupported media type': 415,
  // Refusals of a well-formed request.
  'wrong response': 403,
  'expired': 403,
  'already used': 403,
  'attempts exhausted': 403,
  'refused': 403,
  'limit exceeded': 403,
  'wrong purpose': 403,
  'device inactive': 403,
  'challenges exhausted': 403,
  'locked': 423,
  'throttled': 429,
  'rate limited': 429,
  // The caller's proof.
  'unauthorized': 401,
  'wrong password': 401,
  'wrong code': 401,
  'no session': 401,
  // The service itself.
  'request timeout': 408,
  'busy': 503,
  'shutting down': 503,
  'internal error': 500,
};

/** The status for a reason; an unknown reason is a refusal (403), never a 2xx. */
export function statusOf(reason: string): number {
  return Object.hasOwn(statusByReason, reason) ? statusByReason[reason]! : 403;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly ok: false;
  readonly reason: string;
  readonly retryAfterMs?: number;
  readonly serial?: string;
  readonly locked?: boolean;
}

/** An expected refusal the routes throw; the error handler answers it as a problem document. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

/** A problem document for `reason`; `type` is a URN per reason (no web page is implied). */
export function problem(reason: string, detail: string, extra: { instance?: string; retryAfterMs?: number; serial?: string; locked?: boolean } = {}): Problem {
  return {
    type: `urn:dscplus:problem:${reason.replace(/[^a-z0-9]+/g, '-')}`,
    title: reason,
    status: statusOf(reason),
    detail,
    ok: false,
    reason,
    ...extra,
  };
}
