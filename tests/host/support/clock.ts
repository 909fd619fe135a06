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

export function testHost(options: { clock?: Clock; store?: Store; dbPath?: string; lockLimit?: number; random?: (n: number) => Uint8Array } = {}): { host: LoginHost; clock: Clock } {
  const c = options.clock ?? clock();
  const host = openHost({
    ...(options.store ? { store: options.store } : { dbPath: options.dbPath ?? ':memory:' }),
    hostKey,
    now: () => c.ms,
    random: options.random ?? ((n) => new Uint8Array(randomBytes(n))),
    ...(options.lockLimit !== undefined && { lockLimit: options.lockLimit }),
  });
  return { host, clock: c };
}
