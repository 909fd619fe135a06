/**
 * What logins leave in the database, by row counts on the real SQLite store with a virtual clock. Once the
 * first keep period has passed (`challengeRowKeepMs` past a challenge's expiry), logins at a steady rate leave
 * the challenge, session and rate-limit tables at the same size, and the issued-challenge bitmap within its
 * per-device bound; the audit table grows by exactly its two rows a login until its own keep time
 * (`auditKeepMs`, 400 days by default) and then stops growing too. The "never reissued" rule still holds over
 * the pruned rows.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { auditKeepMsMin, challengeRowKeepMs, challengeTtlMs, issueLimitsDefault, sessionsPerUserMax } from '../../host/index.ts';
import { auditPrunedRowsMax } from '../../host/core.ts';
import { issuedChunkBytes } from '../../host/issued-bits.ts';
import { cleanUp, sqliteHost } from './attacks/support.ts';
import { cardResponse, makeRecord } from './support/devices.ts';

afterAll(cleanUp);

const users = 3;
/** One login per user this often: 12 an hour, inside the default issue limits (30 an hour). */
const loginEveryMs = 5 * 60_000;
const hourMs = 60 * 60_000;
/** Six-digit challenges: 900,000 values, one bit each, in chunks. */
const chunksPerDeviceMax = Math.ceil(900_000 / 8 / issuedChunkBytes);

describe('pruning: the database does not grow per login', () => {
  it('after the keep period, logins at a steady rate leave every table but the audit at the same row count', async () => {
    expect(loginEveryMs * issueLimitsDefault.perAccount).toBeGreaterThan(issueLimitsDefault.windowMs);
    const { host, clock, dbPath } = await sqliteHost();
    const records = Array.from({ length: users }, (_, i) => makeRecord({ serial: 9_100 + i }));
    for (const [i, record] of records.entries()) await host.enroll({ user: `u${i}`, record });
    const issued = records.map(() => new Set<string>());
    let logins = 0;
    const loginsFor = async (durationMs: number) => {
      for (let elapsed = 0; elapsed < durationMs; elapsed += loginEveryMs) {
        for (const [i, record] of records.entries()) {
          const { challenge } = await host.challenge({ user: `u${i}` });
          expect(issued[i]!.has(challenge)).toBe(false); // never reissued, though older rows are gone
          issued[i]!.add(challenge);
          expect(await host.verify({ user: `u${i}`, challenge, response: cardResponse(record, challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: true });
          logins++;
        }
        clock.advance(loginEveryMs);
      }
    };
    const db = new Database(dbPath, { readonly: true });
    const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    const snapshot = () => ({ challenges: count('challenges'), sessions: count('sessions'), rateWindows: count('rate_windows'), issuedBits: count('issued_bits'), audit: count('audit'), logins });

    // Warm-up: past the first keep period, every later login prunes as many rows as it adds.
    await loginsFor(challengeRowKeepMs + challengeTtlMs + hourMs);
    const before = snapshot();
    await loginsFor(24 * hourMs);
    const after = snapshot();
    const loginsBetween = after.logins - before.logins;
    expect(loginsBetween).toBe(users * (24 * hourMs) / loginEveryMs);

    // Consumed challenge rows stay for the keep period only: what is left is the last period's logins.
    expect(after.challenges).toBe(before.challenges);
    expect(after.challenges).toBeLessThanOrEqual(users * Math.ceil((challengeRowKeepMs + challengeTtlMs) / loginEveryMs + 1));
    const now = clock.ms;
    expect(db.prepare('SELECT count(*) FROM challenges WHERE expires_ms < ?').pluck().get(now - challengeRowKeepMs - loginEveryMs)).toBe(0);
    // Sessions: at most sessionsPerUserMax a user, the expired ones pruned when the user logs in again.
    expect(after.sessions).toBe(before.sessions);
    expect(after.sessions).toBeLessThanOrEqual(users * sessionsPerUserMax);
    // Rate-limit windows: one per account and one per device, reused from window to window.
    expect(after.rateWindows).toBe(before.rateWindows);
    expect(after.rateWindows).toBe(2 * users);
    // The bitmap grows only until every chunk of a device exists: bounded per device, whatever the traffic.
    expect(after.issuedBits).toBeLessThanOrEqual(users * chunksPerDeviceMax);
    const setBits = (db.prepare('SELECT bits FROM issued_bits').pluck().all() as Buffer[])
      .reduce((sum, bits) => sum + [...bits].reduce((n, b) => n + b.toString(2).replaceAll('0', '').length, 0), 0);
    expect(setBits).toBe(issued.reduce((n, s) => n + s.size, 0));
    // The audit keeps its record: a challenge issued and a login verified, two rows a login.
    expect(after.audit - before.audit).toBe(2 * loginsBetween);
    db.close();
    await host.close();
  });

  it('with a keep time for the audit (auditKeepMs), the audit stops growing too: the entries older than it are gone', async () => {
    const auditKeepMs = auditKeepMsMin;
    const { host, clock, dbPath } = await sqliteHost({ auditKeepMs });
    const records = Array.from({ length: users }, (_, i) => makeRecord({ serial: 9_200 + i }));
    for (const [i, record] of records.entries()) await host.enroll({ user: `u${i}`, record });
    const db = new Database(dbPath, { readonly: true });
    const auditRows = () => db.prepare('SELECT count(*) FROM audit').pluck().get() as number;
    const login = async () => {
      for (const [i, record] of records.entries()) {
        const { challenge } = await host.challenge({ user: `u${i}` });
        expect(await host.verify({ user: `u${i}`, challenge, response: cardResponse(record, challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: true });
      }
      clock.advance(loginEveryMs);
    };
    const perKeep = (auditKeepMs / loginEveryMs) * users * 2; // two entries a login
    for (let elapsed = 0; elapsed < auditKeepMs + hourMs; elapsed += loginEveryMs) await login();
    const before = auditRows();
    for (let elapsed = 0; elapsed < auditKeepMs; elapsed += loginEveryMs) await login();
    const after = auditRows();
    // What is kept is the last keep time's entries, plus at most what one round of pruning has yet to reach.
    expect(after).toBeGreaterThanOrEqual(perKeep);
    expect(after).toBeLessThanOrEqual(perKeep + auditPrunedRowsMax);
    expect(Math.abs(after - before)).toBeLessThanOrEqual(auditPrunedRowsMax);
    expect(db.prepare('SELECT count(*) FROM audit WHERE at_ms < ?').pluck().get(clock.ms - auditKeepMs - hourMs)).toBe(0);
    db.close();
    await host.close();
  });
});
