/**
 * Sessions: what a completed login gives, and what PIN changes and withdrawals require. The token is 32
 * random bytes shown once (hex); the store keeps only its SHA-256, bound to the user and the device that
 * answered. A session lives `sessionTtlMs` (15 min); a user keeps at most `sessionsPerUserMax` (oldest dropped).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { TxCore } from './core.ts';
import { HostError } from './errors.ts';
import type { SessionRow } from './store.ts';

export const sessionTtlMs = 15 * 60_000;
export const sessionTokenBytes = 32;
export const sessionsPerUserMax = 5;

export interface Session {
  /** The bearer token: a secret, shown once. */
  readonly token: string;
  readonly expiresMs: number;
}

export async function createSession(core: TxCore, user: string, serial: string, nowMs: number): Promise<Session> {
  const store = core.tx;
  await store.trimSessions(user, nowMs, sessionsPerUserMax - 1); // room for the new one
  const token = core.random(sessionTokenBytes);
  const expiresMs = nowMs + sessionTtlMs;
  await store.insertSession({ tokenHash: sha256(token), user, serial, createdMs: nowMs, expiresMs });
  const text = bytesToHex(token);
  token.fill(0);
  return { token: text, expiresMs };
}

/** The live session `token` of `user`, or a HostError (never naming the token). */
export async function requireSession(core: TxCore, user: string, token: unknown, nowMs: number): Promise<SessionRow> {
  if (typeof token !== 'string' || !new RegExp(`^[0-9a-f]{${2 * sessionTokenBytes}}$`).test(token)) {
    throw new HostError('no session', `a session from a login is required: expected the ${2 * sessionTokenBytes} hex digits a login printed`, true);
  }
  const bytes = hexToBytes(token);
  const row = await core.tx.session(sha256(bytes));
  bytes.fill(0);
  if (!row || row.user !== user || nowMs >= row.expiresMs) {
    throw new HostError('no session', `no live session of ${user} with that token: log in again (sessions last ${sessionTtlMs / 60_000} min)`);
  }
  return row;
}
