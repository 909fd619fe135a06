import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { luhnValid } from '../../firmware/luhn.ts';
import { HostError, openSqliteStore, memoryStore, attemptsPerChallengeMax, challengeTtlMs, counterLookAhead } from '../../host/index.ts';
import { cardResponse, makeRecord } from './support/devices.ts';
import { loginSession, testHost } from './support/clock.ts';

const dirs: string[] = [];
afterEach(async () => {
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

describe.each(stores)('verification rules (%s store)', async (_name, makeStore) => {
  async function setup(options: { lockLimit?: number; record?: Parameters<typeof makeRecord>[0] } = {}) {
    const { host, clock } = await testHost({ store: makeStore(), ...(options.lockLimit !== undefined && { lockLimit: options.lockLimit }) });
    const record = makeRecord(options.record ?? { serial: 40417265 });
    await host.enroll({ user: 'trader1', record });
    return { host, clock, record };
  }

  it('accepts the firmware response to a fresh challenge exactly once', async () => {
    const { host, record } = await setup();
    const { challenge, serial, expiresAtMs } = await host.challenge({ user: 'trader1' });
    expect(challenge).toMatch(/^\d{6}$/);
    expect(serial).toBe('40417265');
    expect(expiresAtMs).toBeGreaterThan(0);
    const response = cardResponse(record, challenge, '1234');
    const ok = await host.verify({ user: 'trader1', challenge, response, purpose: 'login' });
    expect(ok).toMatchObject({ ok: true, serial: '40417265', purpose: 'login', session: { token: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(await host.verify({ user: 'trader1', challenge, response, purpose: 'login' })).toMatchObject({ ok: false, reason: 'already used' });
  });

  it('rejects a wrong response, a wrong PIN, an unknown challenge and an unknown user', async () => {
    const { host, record } = await setup();
    const { challenge } = await host.challenge({ user: 'trader1' });
    const right = cardResponse(record, challenge, '1234');
    expect(await host.verify({ user: 'trader1', challenge, response: wrong(right), purpose: 'login' })).toMatchObject({ ok: false, reason: 'wrong response' });
    expect(await host.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge, '9999'), purpose: 'login' })).toMatchObject({ ok: false, reason: 'wrong response' });
    const other = challenge === '000000' ? '000001' : '000000';
    expect(await host.verify({ user: 'trader1', challenge: other, response: right, purpose: 'login' })).toMatchObject({ ok: false, reason: 'unknown challenge' });
    expect(await host.verify({ user: 'nobody', challenge, response: right, purpose: 'login' })).toMatchObject({ ok: false, reason: 'unknown user' });
    // A challenge is bound to its user: another user cannot answer it.
    await host.enroll({ user: 'trader2', record: makeRecord({ serial: 7 }) });
    expect(await host.verify({ user: 'trader2', challenge, response: right, purpose: 'login' })).toMatchObject({ ok: false, reason: 'unknown challenge' });
  });

  it('refuses a malformed response or wrong digit count without writing anything', async () => {
    const { host } = await setup();
    const { challenge } = await host.challenge({ user: 'trader1' });
    const before = (await host.auditLog({ limit: 1000 })).length;
    for (const response of ['1234567', '123456789', '1234567a', '', 'abcdefgh']) {
      expect(await host.verify({ user: 'trader1', challenge, response, purpose: 'login' })).toMatchObject({ ok: false, reason: 'malformed response' });
    }
    expect(await host.auditLog({ limit: 1000 })).toHaveLength(before);
    expect((await host.devices('trader1'))[0]!.failures).toBe(0);
  });

  it('expires a challenge after 120 s', async () => {
    const { host, clock, record } = await setup();
    const { challenge } = await host.challenge({ user: 'trader1' });
    clock.advance(challengeTtlMs);
    expect(await host.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: false, reason: 'expired' });
  });

  it(`allows at most ${attemptsPerChallengeMax} attempts per challenge`, async () => {
    const { host, clock, record } = await setup();
    const { challenge } = await host.challenge({ user: 'trader1' });
    const right = cardResponse(record, challenge, '1234');
    for (let i = 0; i < attemptsPerChallengeMax; i++) {
      expect(await host.verify({ user: 'trader1', challenge, response: wrong(right), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
      clock.advance(1_000); // past any throttling delay, well inside the 120 s
    }
    expect(await host.verify({ user: 'trader1', challenge, response: right, purpose: 'login' })).toMatchObject({ ok: false, reason: 'attempts exhausted' });
  });

  it('never issues the same challenge twice to a device, even when the random source repeats', async () => {
    let calls = 0;
    const repeating = (n: number) => new Uint8Array(n).fill(calls++ < 8 ? 1 : calls % 256);
    const { host } = await testHost({ store: makeStore(), random: repeating });
    await host.enroll({ user: 'trader1', record: makeRecord({ serial: 1 }) });
    calls = 0;
    const first = (await host.challenge({ user: 'trader1' })).challenge;
    calls = 0;
    const second = (await host.challenge({ user: 'trader1' })).challenge;
    expect(second).not.toBe(first);
    // A source stuck on one value exhausts the draws and says so instead of reissuing.
    const { host: stuck } = await testHost({ store: makeStore(), random: (n) => new Uint8Array(n).fill(3) });
    await stuck.enroll({ user: 'u', record: makeRecord({ serial: 2 }) });
    await stuck.challenge({ user: 'u' });
    await expect(stuck.challenge({ user: 'u' })).rejects.toThrow(/no unused challenge/);
  });

  it('appends a Luhn check digit for a device that uses one, and verifies the card response', async () => {
    const { host, record } = await setup({ record: { serial: 55, profile: 'digipass', checkDigit: true } });
    const { challenge } = await host.challenge({ user: 'trader1' });
    expect(challenge).toMatch(/^\d{7}$/);
    expect(luhnValid(challenge)).toBe(true);
    expect(await host.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge), purpose: 'login' })).toMatchObject({ ok: true });
  });

  it('throttles with growing delays, locks at the limit, resets on success, and unlocks by administrator', async () => {
    const { host, clock, record } = await setup({ lockLimit: 5 });
    const attempt = async (offset: number) => {
      const { challenge } = await host.challenge({ user: 'trader1' });
      return await host.verify({ user: 'trader1', challenge, response: offset === 0 ? cardResponse(record, challenge, '1234') : wrong(cardResponse(record, challenge, '1234')), purpose: 'login' });
    };
    expect(await attempt(1)).toMatchObject({ reason: 'wrong response' });
    expect(await attempt(1)).toMatchObject({ reason: 'wrong response' });
    expect(await attempt(1)).toMatchObject({ reason: 'wrong response' }); // third failure: a delay starts
    const throttled = await attempt(0);
    expect(throttled).toMatchObject({ ok: false, reason: 'throttled' });
    expect((throttled as { retryAfterMs: number }).retryAfterMs).toBe(1_000);
    clock.advance(1_000);
    expect(await attempt(1)).toMatchObject({ reason: 'wrong response' });
    expect(await attempt(0)).toMatchObject({ reason: 'throttled', retryAfterMs: 2_000 }); // the delay doubled
    clock.advance(2_000);
    expect(await attempt(1)).toMatchObject({ reason: 'wrong response', locked: true }); // fifth failure: locked
    clock.advance(3_600_000);
    await expect(host.challenge({ user: 'trader1' })).rejects.toThrow(HostError);
    expect((await host.devices('trader1'))[0]).toMatchObject({ locked: true, failures: 5 });
    await host.unlock({ serial: '40417265' });
    expect((await host.devices('trader1'))[0]).toMatchObject({ locked: false, failures: 0 });
    expect(await attempt(1)).toMatchObject({ reason: 'wrong response' });
    expect(await attempt(0)).toMatchObject({ ok: true });
    expect((await host.devices('trader1'))[0]!.failures).toBe(0);
  });

  it('refuses a correct response while the device is locked', async () => {
    const { host, clock, record } = await setup({ lockLimit: 1 });
    const a = await host.challenge({ user: 'trader1' });
    const b = await host.challenge({ user: 'trader1' });
    expect(await host.verify({ user: 'trader1', challenge: a.challenge, response: wrong(cardResponse(record, a.challenge, '1234')), purpose: 'login' })).toMatchObject({ locked: true });
    clock.advance(3_600_000);
    expect(await host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: false, reason: 'locked' });
  });

  it('counter suites accept a response within the look-ahead window and never an older counter', async () => {
    const suite = 'OCRA-1:HOTP-SHA1-8:C-QN06-PSHA1';
    const { host, record } = await setup({ record: { serial: 9, suite } });
    const a = await host.challenge({ user: 'trader1' });
    // The card was used 3 times without logging in: its counter is 3.
    expect(await host.verify({ user: 'trader1', challenge: a.challenge, response: cardResponse(record, a.challenge, '1234', { counter: 3 }), purpose: 'login' })).toMatchObject({ ok: true });
    const b = await host.challenge({ user: 'trader1' });
    expect(await host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234', { counter: 3 }), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    expect(await host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234', { counter: 4 + counterLookAhead + 1 }), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    expect(await host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234', { counter: 4 + counterLookAhead }), purpose: 'login' })).toMatchObject({ ok: true });
  });

  it('time suites accept ±1 step; a fresh challenge in the same step verifies; a step before the last accepted does not', async () => {
    const suite = 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1-T1M';
    const { host, clock, record } = await setup({ record: { serial: 10, suite } });
    const step = Math.floor(clock.ms / 60_000);
    const a = await host.challenge({ user: 'trader1' });
    expect(await host.verify({ user: 'trader1', challenge: a.challenge, response: cardResponse(record, a.challenge, '1234', { timeStep: step - 2 }), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    expect(await host.verify({ user: 'trader1', challenge: a.challenge, response: cardResponse(record, a.challenge, '1234', { timeStep: step }), purpose: 'login' })).toMatchObject({ ok: true });
    // The same step again with a fresh challenge: the challenge makes the response unique.
    const b = await host.challenge({ user: 'trader1' });
    expect(await host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234', { timeStep: step }), purpose: 'login' })).toMatchObject({ ok: true });
    // ... and the same challenge never twice.
    expect(await host.verify({ user: 'trader1', challenge: b.challenge, response: cardResponse(record, b.challenge, '1234', { timeStep: step }), purpose: 'login' })).toMatchObject({ reason: 'already used' });
    const c = await host.challenge({ user: 'trader1' });
    expect(await host.verify({ user: 'trader1', challenge: c.challenge, response: cardResponse(record, c.challenge, '1234', { timeStep: step - 1 }), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    expect(await host.verify({ user: 'trader1', challenge: c.challenge, response: cardResponse(record, c.challenge, '1234', { timeStep: step + 1 }), purpose: 'login' })).toMatchObject({ ok: true });
  });

  it('changes a DSC+ PIN only when the challenge is answered with the new PIN', async () => {
    const { host, clock, record } = await setup();
    const session = await loginSession(host, 'trader1', (c) => cardResponse(record, c, '1234'));
    await expect(host.requestPinChange({ user: 'trader1', session, newPin: '4321', confirmPin: '4322' })).rejects.toThrow(/differ/);
    await expect(host.requestPinChange({ user: 'trader1', session, newPin: '43210', confirmPin: '43210' })).rejects.toThrow(/4 digits/);
    await expect(host.requestPinChange({ user: 'trader1', session, newPin: '4444', confirmPin: '4444' })).rejects.toThrow(/too easy/);
    const { challenge } = await host.requestPinChange({ user: 'trader1', session, newPin: '4731', confirmPin: '4731' });
    expect(await host.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge, '1234'), purpose: 'pin-change' })).toMatchObject({ reason: 'wrong response' });
    // The failed attempt changed nothing: the old PIN still logs in.
    clock.advance(60_000);
    const login = await host.challenge({ user: 'trader1' });
    expect(await host.verify({ user: 'trader1', challenge: login.challenge, response: cardResponse(record, login.challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: true });
    expect(await host.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge, '4731'), purpose: 'pin-change' })).toMatchObject({ ok: true, purpose: 'pin-change' });
    const after = await host.challenge({ user: 'trader1' });
    expect(await host.verify({ user: 'trader1', challenge: after.challenge, response: cardResponse(record, after.challenge, '1234'), purpose: 'login' })).toMatchObject({ reason: 'wrong response' });
    expect(await host.verify({ user: 'trader1', challenge: after.challenge, response: cardResponse(record, after.challenge, '4731'), purpose: 'login' })).toMatchObject({ ok: true });
  });

  it('refuses a server-side PIN change for a digipass card', async () => {
    const { host, record } = await setup({ record: { serial: 56, profile: 'digipass' } });
    const session = await loginSession(host, 'trader1', (c) => cardResponse(record, c));
    await expect(host.requestPinChange({ user: 'trader1', session, newPin: '4731', confirmPin: '4731' })).rejects.toThrow(/PIN is not the server's/);
  });

  it('enrolling the same serial twice with another key is refused; with the same key it is shared', async () => {
    const { host } = await setup();
    await expect(host.enroll({ user: 'other', record: makeRecord({ serial: 40417265, secret: new Uint8Array(20).fill(9) }) })).rejects.toThrow(/different key/);
    const info = await host.enroll({ user: 'trader2', record: makeRecord({ serial: 40417265 }) });
    expect(info.users).toEqual(['trader1', 'trader2']);
    expect((await host.auditLog({ limit: 1 }))[0]).toMatchObject({ action: 'enroll', user: 'trader2', reason: 'shared with another user' });
    // The same user again is not "shared".
    await host.enroll({ user: 'trader2', record: makeRecord({ serial: 40417265 }) });
    expect((await host.auditLog({ limit: 1 }))[0]).toMatchObject({ action: 'enroll', user: 'trader2', reason: 'enrolled again for the same user' });
  });
});
