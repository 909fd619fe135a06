import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { luhnValid } from '../../firmware/luhn.ts';
import { HostError, openSqliteStore, memoryStore, attemptsPerChallengeMax, challengeTtlMs, counterLookAhead } from '../../host/index.ts';
import { cardResponse, makeRecord } from './support/devices.ts';
import { loginSession, testHost } from './support/clock.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Each rule runs on the memory store and on a real SQLite file. */
const stores = [
  ['memory', () => memoryStore()],
  ['sqlite file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsc-host-'));
    dirs.push(dir);
    return openSqliteStore(join(dir, 'host.sqlite'));
  }],
] as const;

/** A wrong response of the right shape: the right one with its last digit changed. */
function wrong(response: string): string {
  return response.slice(0, -1) + String((Number(response.at(-1)) + 1) % 10);
}

describe.each(stores)('verification rules (%s store)', (_name, makeStore) => {
  function setup(options: { lockLimit?: number; record?: Parameters<typeof makeRecord>[0] } = {}) {
    const { host, clock } = testHost({ store: makeStore(), ...(options.lockLimit !== undefined && { lockLimit: options.lockLimit }) });
    const record = makeRecord(options.record ?? { serial: 40417265 });
    host.enroll({ user: 'trader1', record });
    return { host, clock, record };
  }

  it('accepts the firmware response to a fresh challenge exactly once', () => {
    const { host, record } = setup();
    const { challenge, serial, expiresAtMs } = host.challenge({ user: 'trader1' });
    expect(challenge).toMatch(/^\d{6}$/);
    expect(serial).toBe('40417265');
    expect(expiresAtMs).toBeGreaterThan(0);
    const response = cardResponse(record, challenge, '1234');
    const ok = host.verify({ user: 'trader1', challenge, response, purpose: 'login' });
    expect(ok).toMatchObject({ ok: true, serial: '40417265', purpose: 'login', session: { token: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(host.verify({ user: 'trader1', challenge, response, purpose: 'login' })).toMatchObject({ ok: false, reason: 'already used' });
  });

  it('rejects a wrong response, a wrong PIN, an unknown challenge and an unknown user', () => {
    const { host, record } = setup();
    const { challenge } = host.challenge({ user: 'trader1' });
    const right = cardResponse(record, challenge, '1234');
    expect(host.verify({ user: 'trader1', challenge, response: wrong(right), purpose: 'login' })).toMatchObject({ ok: false, reason: 'wrong response' });
    expect(host.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge, '9999'), purpose: 'login' })).toMatchObject({ ok: false, reason: 'wrong response' });
    const other = challenge === '000000' ? '000001' : '000000';
    expect(host.verify({ user: 'trader1', challenge: other, response: right, purpose: 'login' })).toMatchObject({ ok: false, reason: 'unknown challenge' });
    expect(host.verify({ user: 'nobody', challenge, response: right, purpose: 'login' })).toMatchObject({ ok: false, reason: 'unknown user' });
    // A challenge is bound to its user: another user cannot answer it.
    host.enroll({ user: 'trader2', record: makeRecord({ serial: 7 }) });
    expect(host.verify({ user: 'trader2', challenge, response: right, purpose: 'login' })).toMatchObject({ ok: false, reason: 'unknown challenge' });
  });

  it('refuses a malformed response or wrong digit count without writing anything', () => {
    const { host } = setup();
    const { challenge } = host.challenge({ user: 'trader1' });
    const before = host.auditLog({ limit: 1000 }).length;
    for (const response of ['1234567', '123456789', '1234567a', '', 'abcdefgh']) {
      expect(host.verify({ user: 'trader1', challenge, response, purpose: 'login' })).toMatchObject({ ok: false, reason: 'malformed response' });
    }
    expect(host.auditLog({ limit: 1000 })).toHaveLength(before);
    expect(host.devices('trader1')[0]!.failures).toBe(0);
  });

  it('expires a challenge after 120 s', () => {
    const { host, clock, record } = setup();
    const { challenge } = host.challenge({ user: 'trader1' });
    clock.advance(challengeTtlMs);
    expect(host.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: false, reason: 'expired' });
  });

  it(`allows at most ${attemptsPerChallengeMax} attempts per challenge`, () => {
    const { host, clock, record } = setup();
    const { challenge } = host.challenge({ user: 'trader1' });
    const right = cardResponse(record, challenge, '1234');
    for (let i = 0; i < attemptsPerChallengeMax; i++) {
      expect(host.verify({ user: 'trader1', challenge, response: wrong(right), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
      clock.advance(1_000); // past any throttling delay, well inside the 120 s
    }
    expect(host.verify({ user: 'trader1', challenge, response: right, purpose: 'login' })).toMatchObject({ ok: false, reason: 'attempts exhausted' });
  });

  it('never issues the same challenge twice to a device, even when the random source repeats', () => {
    let calls = 0;
    const repeating = (n: number) => new Uint8Array(n).fill(calls++ < 8 ? 1 : calls % 256);
    const { host } = testHost({ store: makeStore(), random: repeating });
    host.enroll({ user: 'trader1', record: makeRecord({ serial: 1 }) });
    calls = 0;
    const first = host.challenge({ user: 'trader1' }).challenge;
    calls = 0;
    const second = host.challenge({ user: 'trader1' }).challenge;
    expect(second).not.toBe(first);
    // A source stuck on one value exhausts the draws and says so instead of reissuing.
    const { host: stuck } = testHost({ store: makeStore(), random: (n) => new Uint8Array(n).fill(3) });
    stuck.enroll({ user: 'u', record: makeRecord({ serial: 2 }) });
    stuck.challenge({ user: 'u' });
    expect(() => stuck.challenge({ user: 'u' })).toThrow(/no unused challenge/);
  });

  it('appends a Luhn check digit for a device that uses one, and verifies the card response', () => {
    const { host, record } = setup({ record: { serial: 55, profile: 'digipass', checkDigit: true } });
    const { challenge } = host.challenge({ user: 'trader1' });
    expect(challenge).toMatch(/^\d{7}$/);
    expect(luhnValid(challenge)).toBe(true);
    expect(host.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge), purpose: 'login' })).toMatchObject({ ok: true });
  });

  it('throttles with growing delays, locks at the limit, resets on success, and unlocks by administrator', () => {
    const { host, clock, record } = setup({ lockLimit: 5 });
    const attempt = (offset: number) => {
      const { challenge } = host.challenge({ user: 'trader1' });
      return host.verify({ user: 'trader1', challenge, response: offset === 0 ? cardResponse(record, challenge, '1234') : wrong(cardResponse(record, challenge, '1234')), purpose: 'login' });
    };
    expect(attempt(1)).toMatchObject({ reason: 'wrong response' });
    expect(attempt(1)).toMatchObject({ reason: 'wrong response' });
    expect(attempt(1)).toMatchObject({ reason: 'wrong response' }); // third failure: a delay starts
    const throttled = attempt(0);
    expect(throttled).toMatchObject({ ok: false, reason: 'throttled' });
    expect((throttled as { retryAfterMs: number }).retryAfterMs).toBe(1_000);
    clock.advance(1_000);
    expect(attempt(1)).toMatchObject({ reason: 'wrong response' });
    expect(attempt(0)).toMatchObject({ reason: 'throttled', retryAfterMs: 2_000 }); // the delay doubled
    clock.advance(2_000);
    expect(attempt(1)).toMatchObject({ reason: 'wrong response', locked: true }); // fifth failure: locked
    clock.advance(3_600_000);
    expect(() => host.challenge({ user: 'trader1' })).toThrow(HostError);
    expect(host.devices('trader1')[0]).toMatchObject({ locked: true, failures: 5 });
    host.unlock({ serial: '40417265' });
    expect(host.devices('trader1')[0]).toMatchObject({ locked: false, failures: 0 });
    expect(attempt(1)).toMatchObject({ reason: 'wrong response' });
    expect(attempt(0)).toMatchObject({ ok: true });
    expect(host.devices('trader1')[0]!.failures).toBe(0);
  });

  it('refuses a correct response while the device is locked', () => {
    const { host, clock, record } = setup({ lockLimit: 1 });
    const a = host.challenge({ user: 'trader1' });
    const b = host.challenge({ user: 'trader1' });
    expect(host.verify({ user: 'trader1', challenge: a.challenge, response: wrong(cardResponse(record, a.challenge, '1234')), purpose: 'login' })).toMatchObject({ locked: true });
    clock.advance(3_600_000);
    expect(host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: false, reason: 'locked' });
  });

  it('counter suites accept a response within the look-ahead window and never an older counter', () => {
    const suite = 'OCRA-1:HOTP-SHA1-8:C-QN06-PSHA1';
    const { host, record } = setup({ record: { serial: 9, suite } });
    const a = host.challenge({ user: 'trader1' });
    // The card was used 3 times without logging in: its counter is 3.
    expect(host.verify({ user: 'trader1', challenge: a.challenge, response: cardResponse(record, a.challenge, '1234', { counter: 3 }), purpose: 'login' })).toMatchObject({ ok: true });
    const b = host.challenge({ user: 'trader1' });
    expect(host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234', { counter: 3 }), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    expect(host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234', { counter: 4 + counterLookAhead + 1 }), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    expect(host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234', { counter: 4 + counterLookAhead }), purpose: 'login' })).toMatchObject({ ok: true });
  });

  it('time suites accept ±1 step; a fresh challenge in the same step verifies; a step before the last accepted does not', () => {
    const suite = 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1-T1M';
    const { host, clock, record } = setup({ record: { serial: 10, suite } });
    const step = Math.floor(clock.ms / 60_000);
    const a = host.challenge({ user: 'trader1' });
    expect(host.verify({ user: 'trader1', challenge: a.challenge, response: cardResponse(record, a.challenge, '1234', { timeStep: step - 2 }), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    expect(host.verify({ user: 'trader1', challenge: a.challenge, response: cardResponse(record, a.challenge, '1234', { timeStep: step }), purpose: 'login' })).toMatchObject({ ok: true });
    // The same step again with a fresh challenge: the challenge makes the response unique.
    const b = host.challenge({ user: 'trader1' });
    expect(host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234', { timeStep: step }), purpose: 'login' })).toMatchObject({ ok: true });
    // ... and the same challenge never twice.
    expect(host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234', { timeStep: step }), purpose: 'login' })).toMatchObject({ reason: 'already used' });
    const c = host.challenge({ user: 'trader1' });
    expect(host.verify({ user: 'trader1', challenge: c.challenge, response: cardResponse(record, c.challenge, '1234', { timeStep: step - 1 }), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    expect(host.verify({ user: 'trader1', challenge: c.challenge, response: cardResponse(record, c.challenge, '1234', { timeStep: step + 1 }), purpose: 'login' })).toMatchObject({ ok: true });
  });

  it('changes a DSC+ PIN only when the challenge is answered with the new PIN', () => {
    const { host, clock, record } = setup();
    const session = loginSession(host, 'trader1', (c) => cardResponse(record, c, '1234'));
    expect(() => host.requestPinChange({ user: 'trader1', session, newPin: '4321', confirmPin: '4322' })).toThrow(/differ/);
    expect(() => host.requestPinChange({ user: 'trader1', session, newPin: '43210', confirmPin: '43210' })).toThrow(/4 digits/);
    expect(() => host.requestPinChange({ user: 'trader1', session, newPin: '4444', confirmPin: '4444' })).toThrow(/too easy/);
    const { challenge } = host.requestPinChange({ user: 'trader1', session, newPin: '4731', confirmPin: '4731' });
    expect(host.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge, '1234'), purpose: 'pin-change' })).toMatchObject({ reason: 'wrong response' });
    // The failed attempt changed nothing: the old PIN still logs in.
    clock.advance(60_000);
    const login = host.challenge({ user: 'trader1' });
    expect(host.verify({ user: 'trader1', challenge: login.challenge, response: cardResponse(record, login.challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: true });
    expect(host.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge, '4731'), purpose: 'pin-change' })).toMatchObject({ ok: true, purpose: 'pin-change' });
    const after = host.challenge({ user: 'trader1' });
    expect(host.verify({ user: 'trader1', challenge: after.challenge, response: cardResponse(record, after.challenge, '1234'), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    expect(host.verify({ user: 'trader1', challenge: after.challenge, response: cardResponse(record, after.challenge, '4731'), purpose: 'login' })).toMatchObject({ ok: true });
  });

  it('refuses a server-side PIN change for a digipass card', () => {
    const { host, record } = setup({ record: { serial: 56, profile: 'digipass' } });
    const session = loginSession(host, 'trader1', (c) => cardResponse(record, c));
    expect(() => host.requestPinChange({ user: 'trader1', session, newPin: '4731', confirmPin: '4731' })).toThrow(/PIN is not the server's/);
  });

  it('enrolling the same serial twice with another key is refused; with the same key it is shared', () => {
    const { host } = setup();
    expect(() => host.enroll({ user: 'other', record: makeRecord({ serial: 40417265, secret: new Uint8Array(20).fill(9) }) })).toThrow(/different key/);
    const info = host.enroll({ user: 'trader2', record: makeRecord({ serial: 40417265 }) });
    expect(info.users).toEqual(['trader1', 'trader2']);
    expect(host.auditLog({ limit: 1 })[0]).toMatchObject({ action: 'enroll', user: 'trader2', reason: 'shared with another user' });
    // The same user again is not "shared".
    host.enroll({ user: 'trader2', record: makeRecord({ serial: 40417265 }) });
    expect(host.auditLog({ limit: 1 })[0]).toMatchObject({ action: 'enroll', user: 'trader2', reason: 'enrolled again for the same user' });
  });
});
