// Attacks 4, 6, 7 and 8 on the host against the real SQLite store: exhausting a card's challenges, locking
// out time-suite users, an answer used for another purpose, answering with a withdrawn device.
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { challengeRowKeepMs, failureDelayMs, HostError, issueLimitsDefault } from '../../../host/index.ts';
import { challengesPrunedPerIssueMax } from '../../../host/issue.ts';
import { issuedChunkBytes } from '../../../host/issued-bits.ts';
import { cardResponse, makeRecord } from '../support/devices.ts';
import { cleanUp, ownerLogin, sqliteHost } from './support.ts';

afterAll(cleanUp);

describe('attack 4: denial of service by drawing challenges', () => {
  it('issue is rate-limited per account and per device, and a refusal says when to retry', async () => {
    const { host, clock } = await sqliteHost();
    await host.enroll({ user: 'u', record: makeRecord({ serial: 401 }) });
    await host.assign({ user: 'u2', serial: '401' });
    for (let i = 0; i < issueLimitsDefault.perAccount; i++) await host.challenge({ user: 'u' });
    await expect(host.challenge({ user: 'u' })).rejects.toThrow(/30 challenges per 60 min reached; retry in 3600 s/);
    // The device's own limit holds for another user of the same (shared) device.
    await expect(host.challenge({ user: 'u2' })).rejects.toThrow(/device 401: 30 challenges/);
    clock.advance(issueLimitsDefault.windowMs);
    expect((await host.challenge({ user: 'u' })).challenge).toMatch(/^\d{6}$/);
    await host.close();
  });

  it('the user-facing login issues no challenge without the password', async () => {
    const { host, dbPath } = await sqliteHost();
    await host.enroll({ user: 'u', record: makeRecord({ serial: 402 }) });
    await host.setPassword({ user: 'u', password: 'correct horse battery' });
    expect(await host.login({ user: 'u', password: 'not the password' })).toMatchObject({ ok: false, reason: 'wrong password' });
    expect(await host.login({ user: 'nobody', password: 'not the password' })).toMatchObject({ ok: false, reason: 'wrong password' });
    await host.close();
    const db = new Database(dbPath, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM challenges').pluck().get()).toBe(0);
    db.close();
  });

  it('what "never reissued" keeps per device is bounded (a bitmap), and expired challenge rows are pruned', async () => {
    const { host, clock, dbPath } = await sqliteHost();
    await host.enroll({ user: 'u', record: makeRecord({ serial: 403 }) });
    const seen = new Set<string>();
    for (let hour = 0; hour < 40; hour++) {
      for (let i = 0; i < issueLimitsDefault.perAccount; i++) {
        const { challenge } = await host.challenge({ user: 'u' });
        expect(seen.has(challenge)).toBe(false);
        seen.add(challenge);
      }
      clock.advance(issueLimitsDefault.windowMs);
    }
    clock.advance(challengeRowKeepMs);
    const db = new Database(dbPath, { readonly: true });
    const rows = () => db.prepare('SELECT count(*) FROM challenges').pluck().get() as number;
    // Pruned as they went: what is left is about the last keep period's rows (24 h at 30 an hour, and the TTL).
    const expired = rows();
    expect(expired).toBeLessThanOrEqual((challengeRowKeepMs / issueLimitsDefault.windowMs + 2) * issueLimitsDefault.perAccount);
    // Each issue prunes a bounded number of the oldest rows: the 1,200 expired ones go over the next issues.
    let issuedAfter = 0;
    while (rows() > issuedAfter) {
      const { challenge } = await host.challenge({ user: 'u' });
      expect(seen.has(challenge)).toBe(false);
      seen.add(challenge);
      issuedAfter++;
      expect(rows()).toBe(Math.max(issuedAfter, expired - issuedAfter * (challengesPrunedPerIssueMax - 1)));
      if (issuedAfter % issueLimitsDefault.perAccount === 0) clock.advance(issueLimitsDefault.windowMs);
    }
    expect(issuedAfter).toBe(Math.ceil(expired / challengesPrunedPerIssueMax));
    await host.close();
    // 1,200 + issuedAfter challenges issued; the rows older than the keep time are gone, the bitmap remembers them all.
    expect(rows()).toBe(issuedAfter);
    const bitmapBytes = db.prepare("SELECT coalesce(sum(length(bits)), 0) FROM issued_bits WHERE serial = '403'").pluck().get() as number;
    expect(bitmapBytes).toBeLessThanOrEqual(Math.ceil(900_000 / 8 / issuedChunkBytes) * issuedChunkBytes);
    const setBits = (db.prepare("SELECT bits FROM issued_bits WHERE serial = '403'").pluck().all() as Buffer[])
      .reduce((sum, bits) => sum + [...bits].reduce((n, b) => n + b.toString(2).replaceAll('0', '').length, 0), 0);
    expect(setBits).toBe(seen.size);
    db.close();
  });
});

describe('attack 6: time suites locking out honest users', () => {
  it('a T1H card logging in once a minute with fresh challenges: every login verifies; the same challenge never twice', async () => {
    const { host, clock } = await sqliteHost();
    const record = makeRecord({ serial: 601, suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1-T1H' });
    await host.enroll({ user: 'u', record });
    const stepOf = (ms: number) => Math.floor(ms / 3_600_000);
    for (let minute = 0; minute < 12; minute++) {
      const { challenge } = await host.challenge({ user: 'u' });
      const response = cardResponse(record, challenge, '1234', { timeStep: stepOf(clock.ms) });
      expect(await host.verify({ user: 'u', challenge, response, purpose: 'login' })).toMatchObject({ ok: true });
      expect(await host.verify({ user: 'u', challenge, response, purpose: 'login' })).toMatchObject({ ok: false, reason: 'already used' });
      clock.advance(60_000);
    }
    expect((await host.devices('u'))[0]).toMatchObject({ failures: 0, locked: false });
    await host.close();
  });
});

describe('attack 7: an answer used for another purpose', () => {
  it('a response phished from a login cannot authorize a withdrawal, and the attempt counts', async () => {
    const { host, clock } = await sqliteHost();
    const record = makeRecord({ serial: 701 });
    await host.enroll({ user: 'u', record });
    const session = await ownerLogin(host, 'u', record);
    const phished = await host.challenge({ user: 'u' });
    const answer = cardResponse(record, phished.challenge, '1234');
    expect(await host.verify({ user: 'u', challenge: phished.challenge, response: answer, purpose: 'withdrawal' })).toMatchObject({ ok: false, reason: 'wrong purpose' });
    const withdrawal = await host.authorizeWithdrawal({ user: 'u', session, amountUsd: 5_000 });
    const withdrawalAnswer = cardResponse(record, withdrawal.challenge, '1234');
    expect(await host.verify({ user: 'u', challenge: withdrawal.challenge, response: withdrawalAnswer, purpose: 'login' })).toMatchObject({ ok: false, reason: 'wrong purpose' });
    expect(await host.verify({ user: 'u', challenge: withdrawal.challenge, response: withdrawalAnswer, purpose: 'pin-change' })).toMatchObject({ ok: false, reason: 'wrong purpose' });
    expect((await host.auditLog({ user: 'u' })).filter((e) => e.action === 'account' && e.outcome === 'failed')).toHaveLength(3);
    clock.advance(failureDelayMs(3)); // three failures in a row: the account waits before the next attempt
    expect(await host.verify({ user: 'u', challenge: withdrawal.challenge, response: withdrawalAnswer, purpose: 'withdrawal' })).toMatchObject({ ok: true, amountUsd: 5_000 });
    // The type makes forgetting the purpose a compile error; a caller bypassing it is refused at run time.
    await expect(host.verify({ user: 'u', challenge: phished.challenge, response: answer } as never)).rejects.toThrow(HostError);
    await host.close();
  });
});

describe('attack 8: answering with a withdrawn device', () => {
  it('a device deactivated after the challenge was issued cannot answer it', async () => {
    const { host } = await sqliteHost();
    const record = makeRecord({ serial: 801 });
    await host.enroll({ user: 'u', record });
    const { challenge } = await host.challenge({ user: 'u' });
    await host.assign({ user: 'u', serial: '801', active: false });
    expect(await host.verify({ user: 'u', challenge, response: cardResponse(record, challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: false, reason: 'device inactive' });
    await host.close();
  });
});
