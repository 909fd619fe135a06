/**
 * Properties over random devices, PINs and challenges (fast-check; the seed is printed, replay with FC_SEED):
 * - the firmware's response verifies, and every OTHER 8-digit value checked does not (privacyIDEA issue 1008:
 *   an OCRA verifier once accepted any response; this property cannot pass against such a bug);
 * - replaying a used challenge never succeeds;
 * - the lock always holds once the failure limit is reached.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lockLimitMax } from '../../host/index.ts';
import { propertyParams } from '../support/seed.ts';
import { testHost } from './support/clock.ts';
import { cardResponse, makeRecord } from './support/devices.ts';

const pin = fc.stringMatching(/^\d{4}$/);
const secret = fc.uint8Array({ minLength: 16, maxLength: 64 });
const suite = fc.constantFrom('OCRA-1:HOTP-SHA1-8:QN06-PSHA1', 'OCRA-1:HOTP-SHA256-8:QN08-PSHA256', 'OCRA-1:HOTP-SHA512-8:QN06-PSHA1');
const eightDigits = fc.integer({ min: 0, max: 99_999_999 }).map((n) => String(n).padStart(8, '0'));

describe('verifier properties', () => {
  it('the card response verifies and every other value checked is rejected', async () => {
    await fc.assert(
      fc.asyncProperty(secret, pin, suite, fc.boolean(), fc.array(eightDigits, { minLength: 2, maxLength: 2 }), async (key, p, s, checkDigit, others) => {
        const { host } = await testHost();
        const record = makeRecord({ serial: 4242, secret: key, pin: p, suite: s, checkDigit });
        await host.enroll({ user: 'u', record });
        const { challenge } = await host.challenge({ user: 'u' });
        const right = cardResponse(record, challenge, p);
        // Two wrong values first (the third attempt is the right one: at most 3 per challenge).
        for (const other of others) {
          if (other === right) continue;
          expect(await host.verify({ user: 'u', challenge, response: other, purpose: 'login' })).toMatchObject({ ok: false, reason: 'wrong response' });
        }
        expect(await host.verify({ user: 'u', challenge, response: right, purpose: 'login' })).toMatchObject({ ok: true });
        await host.close();
      }),
      propertyParams(1000),
    );
  });

  it('a response made with any other PIN is rejected', async () => {
    await fc.assert(
      fc.asyncProperty(secret, pin, pin, async (key, p, q) => {
        fc.pre(p !== q);
        const { host } = await testHost();
        const record = makeRecord({ serial: 4243, secret: key, pin: p });
        await host.enroll({ user: 'u', record });
        const { challenge } = await host.challenge({ user: 'u' });
        expect(await host.verify({ user: 'u', challenge, response: cardResponse(record, challenge, q), purpose: 'login' })).toMatchObject({ ok: false });
        await host.close();
      }),
      propertyParams(200),
    );
  });

  it('replaying a used challenge never succeeds, whatever is sent', async () => {
    await fc.assert(
      fc.asyncProperty(secret, pin, fc.array(fc.oneof(eightDigits, fc.constant('right')), { minLength: 1, maxLength: 6 }), async (key, p, replays) => {
        const { host, clock } = await testHost();
        const record = makeRecord({ serial: 4244, secret: key, pin: p });
        await host.enroll({ user: 'u', record });
        const { challenge } = await host.challenge({ user: 'u' });
        const right = cardResponse(record, challenge, p);
        expect(await host.verify({ user: 'u', challenge, response: right, purpose: 'login' })).toMatchObject({ ok: true });
        for (const replay of replays) {
          clock.advance(10_000);
          expect(await host.verify({ user: 'u', challenge, response: replay === 'right' ? right : replay, purpose: 'login' })).toMatchObject({ ok: false });
        }
        await host.close();
      }),
      propertyParams(200),
    );
  });

  it('the lock holds at the limit: no response verifies until an administrator unlocks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 5 }), async (limit, extra) => {
        const { host, clock } = await testHost({ lockLimit: limit });
        const record = makeRecord({ serial: 4245 });
        await host.enroll({ user: 'u', record });
        for (let i = 0; i < limit; i++) {
          const { challenge } = await host.challenge({ user: 'u' });
          const right = cardResponse(record, challenge, '1234');
          expect(await host.verify({ user: 'u', challenge, response: right === '00000000' ? '00000001' : '00000000', purpose: 'login' })).toMatchObject({ ok: false, reason: 'wrong response' });
          clock.advance(10 * 60_000); // beyond any throttling delay
        }
        expect((await host.devices('u'))[0]!.locked).toBe(true);
        for (let i = 0; i <= extra; i++) {
          clock.advance(3_600_000);
          await expect(host.challenge({ user: 'u' })).rejects.toThrow(/locked/);
        }
        await host.unlock({ serial: '4245' });
        const { challenge } = await host.challenge({ user: 'u' });
        expect(await host.verify({ user: 'u', challenge, response: cardResponse(record, challenge, '1234'), purpose: 'login' })).toMatchObject({ ok: true });
        await host.close();
      }),
      propertyParams(60),
    );
  });

  it(`the lock limit can never be set above ${lockLimitMax}`, async () => {
    await expect(testHost({ lockLimit: lockLimitMax + 1 })).rejects.toThrow(/1\.\.100/);
    await expect(testHost({ lockLimit: 0 })).rejects.toThrow(/1\.\.100/);
    expect((await testHost({ lockLimit: lockLimitMax })).host.lockLimit).toBe(lockLimitMax);
  });
});
