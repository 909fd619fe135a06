// Attacks 1, 2, 3 and 5 on the host, each against the real SQLite store: taking over an account with a stolen
// card, guessing temporary codes, multiplying the guess budget with devices, a second temporary code in a row.
import { afterAll, describe, expect, it } from 'vitest';
import { defaultLockLimit, HostError, sessionTtlMs } from '../../../host/index.ts';
import { cardResponse, makeRecord } from '../support/devices.ts';
import { cleanUp, ownerLogin, sqliteHost, wrongOf } from './support.ts';

afterAll(cleanUp);

describe('attack 1: taking over an account with a stolen card (PIN change without proof)', () => {
  it('a PIN change needs a live session from a login with the current PIN on that device', async () => {
    const { host, clock } = await sqliteHost();
    const card = makeRecord({ serial: 101, pin: '1234' });
    const other = makeRecord({ serial: 102, pin: '5678' });
    await host.enroll({ user: 'victim', record: card });
    await host.enroll({ user: 'thief', record: other });
    // The thief holds the card but not the PIN: no session, a made-up token, or the thief's own session.
    await expect(host.requestPinChange({ user: 'victim', session: '', newPin: '4731', confirmPin: '4731' })).rejects.toThrow(HostError);
    await expect(host.requestPinChange({ user: 'victim', session: 'ab'.repeat(32), newPin: '4731', confirmPin: '4731' })).rejects.toThrow(/no live session/);
    const thiefSession = await ownerLogin(host, 'thief', other, '5678');
    await expect(host.requestPinChange({ user: 'victim', session: thiefSession, newPin: '4731', confirmPin: '4731' })).rejects.toThrow(/no live session/);
    // The owner's own session expires.
    const session = await ownerLogin(host, 'victim', card);
    clock.advance(sessionTtlMs);
    await expect(host.requestPinChange({ user: 'victim', session, newPin: '4731', confirmPin: '4731' })).rejects.toThrow(/no live session/);
    // The owner's PIN still works.
    await ownerLogin(host, 'victim', card);
    await host.close();
  });
});

describe('attack 2: guessing temporary codes without limit', () => {
  it(`at most ${defaultLockLimit} wrong codes, with growing delays, then the account locks (even the right code is refused)`, async () => {
    const { host, clock } = await sqliteHost();
    await host.enroll({ user: 'u', record: makeRecord({ serial: 201 }) });
    const { code } = await host.issueTempCode({ user: 'u' });
    let wrong = 0;
    let throttled = 0;
    for (let i = 0; i < 20_000 && wrong + throttled < 20_000; i++) {
      const result = await host.checkTempCode({ user: 'u', code: 'ZZZZZZZZZZ' });
      if (result.ok) throw new Error('a wrong code was accepted');
      if (result.reason === 'wrong code') wrong++;
      else if (result.reason === 'throttled') {
        throttled++;
        clock.advance(result.retryAfterMs ?? 0);
      } else {
        expect(result.reason).toBe('locked');
        break;
      }
    }
    expect(wrong).toBe(defaultLockLimit);
    expect(throttled).toBeGreaterThan(0);
    expect(await host.checkTempCode({ user: 'u', code })).toMatchObject({ ok: false, reason: 'locked' });
    await host.unlock({ user: 'u' });
    expect(await host.checkTempCode({ user: 'u', code })).toEqual({ ok: true, access: 'full' });
    await host.close();
  });
});

describe('attack 3: multiplying the guess budget with several devices', () => {
  it(`a user with 5 devices gets ${defaultLockLimit} wrong answers in all, not 10 per device; code cards add none`, async () => {
    const { host, clock } = await sqliteHost();
    const cards = [301, 302, 303, 304, 305].map((serial) => makeRecord({ serial }));
    for (const record of cards) await host.enroll({ user: 'u', record });
    let wrong = 0;
    for (let round = 0; round < 100; round++) {
      const record = cards[round % cards.length]!;
      let issued;
      try {
        issued = await host.challenge({ user: 'u', serial: record.serial });
      } catch (error) {
        expect((error as HostError).reason).toBe('locked');
        break;
      }
      const result = await host.verify({ user: 'u', challenge: issued.challenge, response: wrongOf(cardResponse(record, issued.challenge, '1234')), purpose: 'login' });
      if (result.ok) throw new Error('a wrong response was accepted');
      if (result.reason === 'wrong response') wrong++;
      if (result.reason === 'locked') break;
      if (result.reason === 'throttled') clock.advance(result.retryAfterMs!);
      else clock.advance(60_000);
    }
    expect(wrong).toBe(defaultLockLimit);
    // A temporary code, or a code card printed with one, does not reopen the account either.
    expect(await host.checkTempCode({ user: 'u', code: 'ZZZZZZZZZZ' })).toMatchObject({ ok: false, reason: 'locked' });
    await host.close();
  });

  it('wrong passwords count toward the same lock', async () => {
    const { host, clock } = await sqliteHost();
    const record = makeRecord({ serial: 306 });
    await host.enroll({ user: 'u', record });
    await host.setPassword({ user: 'u', password: 'correct horse battery' });
    const issued = await host.challenge({ user: 'u' });
    expect(await host.verify({ user: 'u', challenge: issued.challenge, response: wrongOf(cardResponse(record, issued.challenge, '1234')), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    let wrong = 1;
    for (let i = 0; i < 50; i++) {
      const result = await host.login({ user: 'u', password: `guess number ${i}` });
      if (result.ok) throw new Error('a wrong password was accepted');
      if (result.reason === 'locked') break;
      if (result.reason === 'throttled') clock.advance(result.retryAfterMs!);
      else wrong++;
    }
    expect(wrong).toBe(defaultLockLimit);
    expect(await host.login({ user: 'u', password: 'correct horse battery' })).toMatchObject({ ok: false, reason: 'locked' });
    await host.close();
  });
});

describe('attack 5: a second temporary code in a row via the code card the first one printed', () => {
  it('a login with the online code card does not end "never two in a row"; a login with a permanent device does', async () => {
    const { host } = await sqliteHost();
    const record = makeRecord({ serial: 501 });
    await host.enroll({ user: 'u', record });
    const { code } = await host.issueTempCode({ user: 'u' });
    const card = await host.issueCodeCard({ user: 'u', tempCode: code });
    const issued = await host.challenge({ user: 'u', serial: card.serial });
    const [i, j] = issued.indexes!;
    expect(await host.verify({ user: 'u', challenge: issued.challenge, response: card.codes[i - 1]! + card.codes[j - 1]!, purpose: 'login' })).toMatchObject({ ok: true });
    await expect(host.issueTempCode({ user: 'u' })).rejects.toThrow(/never two in a row/);
    await ownerLogin(host, 'u', record);
    expect((await host.issueTempCode({ user: 'u' })).code).toMatch(/^[2-9A-Z]{10}$/);
    await host.close();
  });
});
