// The engine's one response matcher (firmware/ocra/match.ts): which counter or time step produced a
// response, within the window the caller gives; properties over random positions, seed printed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchResponse, ocra, prepareOcra, type OcraKey } from '../../firmware/ocra/index.ts';
import { propertyParams } from '../support/seed.ts';

const secret = new TextEncoder().encode('12345678901234567890');
const counterSuite = 'OCRA-1:HOTP-SHA1-8:C-QN06-PSHA1';
const timeSuite = 'OCRA-1:HOTP-SHA1-8:QN06-T1M';
const plainSuite = 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1';

function withKey<T>(suite: string, body: (key: OcraKey) => T): T {
  const key = prepareOcra(suite, secret);
  try {
    return body(key);
  } finally {
    key.destroy();
  }
}

describe('matchResponse', () => {
  it('finds the counter that produced a response exactly when it lies in the look-ahead', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 }), (from, used, lookAhead) => {
        const shown = ocra(counterSuite, secret, { challenge: '123456', pin: '2580', counter: from + used });
        const match = withKey(counterSuite, (key) => matchResponse(key, { challenge: '123456', pin: '2580' }, shown, { counter: from }, { counterLookAhead: lookAhead, timeStepWindow: 0 }));
        // Two counters may give the same 8 digits; the earliest match wins, so check what it names, not which.
        if (used <= lookAhead) {
          expect(match).not.toBeNull();
          expect(match!.counter).toBeLessThanOrEqual(from + used);
        }
        if (match !== null) {
          expect(match.counter).toBeGreaterThanOrEqual(from);
          expect(match.counter).toBeLessThanOrEqual(from + lookAhead);
          expect(ocra(counterSuite, secret, { challenge: '123456', pin: '2580', counter: match.counter! })).toBe(shown);
        }
      }),
      propertyParams(200),
    );
  });

  it('finds a time step within the window either side of now, and never one at or before afterStep', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 30_000_000 }), fc.integer({ min: -3, max: 3 }), fc.integer({ min: 0, max: 2 }), (now, drift, window) => {
        const shown = ocra(timeSuite, secret, { challenge: '123456', timeStep: now + drift });
        const at = { counter: 0, nowStep: now };
        const match = withKey(timeSuite, (key) => matchResponse(key, { challenge: '123456' }, shown, at, { counterLookAhead: 0, timeStepWindow: window }));
        if (Math.abs(drift) <= window) expect(match).toEqual({ counter: undefined, timeStep: now + drift });
        else expect(match?.timeStep).not.toBe(now + drift);
        const replayed = withKey(timeSuite, (key) => matchResponse(key, { challenge: '123456' }, shown, { ...at, afterStep: now + drift }, { counterLookAhead: 0, timeStepWindow: window }));
        expect(replayed?.timeStep).not.toBe(now + drift);
      }),
      propertyParams(200),
    );
  });

  it('takes the one candidate of a suite without counter or time, and refuses a wrong PIN', () => {
    const shown = ocra(plainSuite, secret, { challenge: '654321', pin: '2580' });
    withKey(plainSuite, (key) => {
      const window = { counterLookAhead: 100, timeStepWindow: 2 };
      expect(matchResponse(key, { challenge: '654321', pin: '2580' }, shown, { counter: 0 }, window)).toEqual({ counter: undefined, timeStep: undefined });
      expect(matchResponse(key, { challenge: '654321', pin: '2581' }, shown, { counter: 0 }, window)).toBeNull();
      expect(matchResponse(key, { challenge: '654321', pin: '2580' }, shown.slice(0, -1), { counter: 0 }, window)).toBeNull();
    });
  });

  it.each([
    [{ counterLookAhead: -1, timeStepWindow: 0 }, /"counterLookAhead" expected 0..1000, got -1/],
    [{ counterLookAhead: 1001, timeStepWindow: 0 }, /"counterLookAhead" expected 0..1000, got 1001/],
    [{ counterLookAhead: 0, timeStepWindow: 1.5 }, /"timeStepWindow" expected an integer/],
  ])('refuses the window %j', (window, message) => {
    withKey(counterSuite, (key) => expect(() => matchResponse(key, { challenge: '1', pin: '2580' }, '12345678', { counter: 0 }, window)).toThrow(message));
  });

  it('near 2^53 tries only counters whose successor is still safe, and does not throw', () => {
    const last = Number.MAX_SAFE_INTEGER - 1;
    const shown = ocra(counterSuite, secret, { challenge: '123456', pin: '2580', counter: last });
    const window = { counterLookAhead: 10, timeStepWindow: 0 };
    withKey(counterSuite, (key) => {
      expect(matchResponse(key, { challenge: '123456', pin: '2580' }, shown, { counter: last - 3 }, window)).toEqual({ counter: last, timeStep: undefined });
      // From the last safe counter on there is no candidate left: a wrong response, not a crash.
      expect(matchResponse(key, { challenge: '123456', pin: '2580' }, shown, { counter: Number.MAX_SAFE_INTEGER }, window)).toBeNull();
    });
  });

  it('refuses a time suite without nowStep', () => {
    withKey(timeSuite, (key) => expect(() => matchResponse(key, { challenge: '1' }, '12345678', { counter: 0 }, { counterLookAhead: 0, timeStepWindow: 1 })).toThrow(/"nowStep" expected an integer/));
  });
});
