/** A virtual clock and a deterministic random source for host tests (no sleeps, replayable). */
import { randomBytes } from 'node:crypto';
import { hexToBytes } from '@noble/hashes/utils.js';
import { openHost, type LoginHost } from '../../../host/index.ts';
import type { Store } from '../../../host/store.ts';

export interface Clock {
  ms: number;
  advance(ms: number): void;
}

/** Monday 2026-01-05 09:00 UTC. */
export const startMs = Date.UTC(2026, 0, 5, 9);

export function clock(at = startMs): Clock {
  const c = { ms: at, advance: (ms: number) => void (c.ms += ms) };
  return c;
}

export const hostKey = hexToBytes('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');

/** Issue limits out of the way, for tests of everything else (the attack tests use the defaults). */
export const unlimitedIssues = { perAccount: Number.MAX_SAFE_INTEGER, perDevice: Number.MAX_SAFE_INTEGER, windowMs: 60_000 };
/** A cheap scrypt cost for tests (the parameters are stored with each hash; bench/host.ts measures the real cost). */
export const testPasswordCost = { N: 16, r: 8, p: 1 };

export async function testHost(options: { clock?: Clock; store?: Store; dbPath?: string; lockLimit?: number; auditKeepMs?: number; random?: (n: number) => Uint8Array; realIssueLimits?: boolean } = {}): Promise<{ host: LoginHost; clock: Clock }> {
  const c = options.clock ?? clock();
  const host = await openHost({
    ...(options.store ? { store: options.store } : { dbPath: options.dbPath ?? ':memory:' }),
    hostKey,
    now: () => c.ms,
    random: options.random ?? ((n) => new Uint8Array(randomBytes(n))),
    ...(options.lockLimit !== undefined && { lockLimit: options.lockLimit }),
    ...(options.auditKeepMs !== undefined && { auditKeepMs: options.auditKeepMs }),
    ...(!options.realIssueLimits && { issueLimits: unlimitedIssues }),
    passwordCost: testPasswordCost,
  });
  return { host, clock: c };
}

/** A live session of `user`: a login challenge answered by `answer` (the card's response to it). */
export async function loginSession(host: LoginHost, user: string, answer: (challenge: string) => string, serial?: string): Promise<string> {
  const issued = await host.challenge({ user, ...(serial !== undefined && { serial }) });
  const result = await host.verify({ user, challenge: issued.challenge, response: answer(issued.challenge), purpose: 'login' });
  if (!result.ok || !result.session) throw new Error(`test login of ${user} failed: ${JSON.stringify(result)}`);
  return result.session.token;
}
