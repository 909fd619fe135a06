// Property tests of the OCRA engine against an independent oracle (node:crypto, RFC Appendix A style),
// over random suites of the whole RFC 6287 grammar. Seed printed; replay with FC_SEED.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex } from '@noble/hashes/utils.js';
import { hashBytes, parseSuite, prepareOcra, type OcraInputs } from '../../firmware/ocra/index.ts';
import { referenceOcra } from '../support/reference-ocra.ts';
import { ocraCase, type Case } from '../support/arbitraries.ts';
import { propertyParams } from '../support/seed.ts';

function engineHmac(c: Case, inputs: OcraInputs = c.inputs, key = c.key): string {
  const prepared = prepareOcra(c.suite, key);
  try {
    return bytesToHex(prepared.hmac(inputs));
  } finally {
    prepared.destroy();
  }
}

function oracle(c: Case) {
  return referenceOcra({
    suite: c.suite,
    keyHex: bytesToHex(c.key),
    question: c.inputs.challenge,
    ...(c.inputs.counter !== undefined && { counter: c.inputs.counter }),
    ...(c.inputs.pin !== undefined && { pin: c.inputs.pin }),
    ...(c.inputs.session !== undefined && { sessionHex: bytesToHex(c.inputs.session) }),
    ...(c.inputs.timeStep !== undefined && { timeStep: c.inputs.timeStep }),
  });
}

/** Change one character of a question to another character of its alphabet. */
function otherChar(format: 'N' | 'A' | 'H', ch: string, pick: number): string {
  const alphabet = format === 'N' ? '0123456789' : format === 'H' ? '0123456789abcdef' : '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const candidates = alphabet.split('').filter((x) => x.toLowerCase() !== ch.toLowerCase());
  return candidates[pick % candidates.length]!;
}

/** Whether a = b·16^k or b = a·16^k for some k ≥ 0: the numeric questions RFC 6287 encodes alike. */
function sixteenPowerApart(a: bigint, b: bigint): boolean {
  if (a === b) return true;
  let [small, large] = a < b ? [a, b] : [b, a];
  if (small === 0n) return false;
  while (large > small && large % 16n === 0n) large /= 16n;
  return large === small;
}

describe('RFC 6287 numeric question encoding', () => {
  it('encodes n and n·16^k alike (left-aligned hex, Appendix A): "4" and "64" give the same response, as the reference code does', () => {
    const key = new Uint8Array(20).fill(7);
    const suite = 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1';
    const respond = (challenge: string) => prepareOcra(suite, key).respond({ challenge, pin: '1234' });
    expect(respond('000004')).toBe(respond('000064'));
    expect(respond('000001')).toBe(respond('065536'));
    expect(respond('000004')).not.toBe(respond('000005'));
    const oracle = (question: string) => referenceOcra({ suite, keyHex: '07'.repeat(20), question, pin: '1234' }).response;
    expect(oracle('000004')).toBe(respond('000064'));
  });
});

describe('OCRA engine properties', () => {
  it('agrees with the reference oracle and has exactly t digits (or the full HMAC for t = 0)', () => {
    fc.assert(
      fc.property(ocraCase, (c) => {
        const prepared = prepareOcra(c.suite, c.key);
        const response = prepared.respond(c.inputs);
        prepared.destroy();
        const expected = oracle(c);
        expect(response).toBe(expected.response);
        if (c.spec.digits === 0) expect(response).toMatch(new RegExp(`^[0-9a-f]{${hashBytes[c.spec.hash] * 2}}$`));
        else expect(response).toMatch(new RegExp(`^[0-9]{${c.spec.digits}}$`));
      }),
      propertyParams(1500),
    );
  });

  it('a counter or time step given as a number gives the same HMAC as the same value as a bigint', () => {
    const suite = 'OCRA-1:HOTP-SHA256-0:C-QH64-T30S';
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.maxSafeNat(), fc.maxSafeNat(), (key, counter, timeStep) => {
        const prepared = prepareOcra(suite, key);
        const asNumber = prepared.respond({ challenge: 'ab12', counter, timeStep });
        const asBigint = prepared.respond({ challenge: 'ab12', counter: BigInt(counter), timeStep: BigInt(timeStep) });
        prepared.destroy();
        expect(asNumber).toBe(asBigint);
      }),
      propertyParams(1000),
    );
  });

  it('any single-field change of input changes the full HMAC', () => {
    const change = fc.record({ field: fc.constantFrom('key', 'challenge', 'counter', 'pin', 'session', 'timeStep'), at: fc.nat(), by: fc.integer({ min: 1, max: 255 }) });
    fc.assert(
      fc.property(ocraCase, change, (c, { field, at, by }) => {
        const before = engineHmac(c);
        const inputs = { ...c.inputs };
        let key = c.key;
        switch (field) {
          case 'key':
            key = c.key.slice();
            key[at % key.length] = (key[at % key.length]! + by) & 0xff;
            break;
          case 'challenge': {
            const i = at % inputs.challenge.length;
            inputs.challenge = inputs.challenge.slice(0, i) + otherChar(c.spec.format, inputs.challenge[i]!, by) + inputs.challenge.slice(i + 1);
            // RFC 6287 encodes QN values as left-aligned hex, so n and n·16^k collide by design (tested below).
            if (c.spec.format === 'N' && sixteenPowerApart(BigInt(c.inputs.challenge), BigInt(inputs.challenge))) return;
            break;
          }
          case 'counter':
            if (!c.spec.counter) return;
            inputs.counter = (inputs.counter! + BigInt(by)) % (1n << 64n);
            break;
          case 'pin':
            if (!c.spec.pin) return;
            inputs.pin = `${inputs.pin}${String.fromCharCode(0x30 + (by % 10))}`;
            break;
          case 'session': {
            if (!c.spec.sessionBytes) return;
            const session = inputs.session!.slice();
            session[at % session.length] = (session[at % session.length]! + by) & 0xff;
            inputs.session = session;
            break;
          }
          case 'timeStep':
            if (!c.spec.time) return;
            inputs.timeStep = (inputs.timeStep! + BigInt(by)) % (1n << 64n);
            break;
        }
        expect(engineHmac(c, inputs, key)).not.toBe(before);
      }),
      propertyParams(1500),
    );
  });

  it('accepts only canonical suites: any string it parses is rebuilt exactly from the parse', () => {
    const canonical = (s: ReturnType<typeof parseSuite>): string => {
      const t = s.timeStepSeconds;
      const time = t === undefined ? [] : [t % 3600 === 0 && t > 3540 ? `T${t / 3600}H` : t % 60 === 0 ? `T${t / 60}M` : `T${t}S`];
      const fields = [
        ...(s.counter ? ['C'] : []),
        `Q${s.question.format}${String(s.question.lengthMax).padStart(2, '0')}`,
        ...(s.pin ? [`P${s.pin}`] : []),
        ...(s.sessionBytes ? [`S${String(s.sessionBytes).padStart(3, '0')}`] : []),
        ...time,
      ];
      return `OCRA-1:HOTP-${s.hash}-${s.digits}:${fields.join('-')}`;
    };
    // Mutations of real suites (one character replaced, dropped or doubled) plus arbitrary strings.
    const mutated = fc
      .tuple(ocraCase.map((c) => c.suite), fc.nat(), fc.constantFrom('replace', 'drop', 'double'), fc.constantFrom(...'-:0123456789ACHMNPQSTQhx '))
      .map(([suite, at, how, ch]) => {
        const i = at % suite.length;
        if (how === 'drop') return suite.slice(0, i) + suite.slice(i + 1);
        if (how === 'double') return suite.slice(0, i + 1) + suite.slice(i);
        return suite.slice(0, i) + ch + suite.slice(i + 1);
      });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.string({ maxLength: 60 })), (text) => {
        let parsed: ReturnType<typeof parseSuite>;
        try {
          parsed = parseSuite(text);
        } catch (error) {
          expect(error).toBeInstanceOf(RangeError);
          expect((error as Error).message).toMatch(/^"suite" /);
          expect((error as Error).message).toContain(JSON.stringify(text.slice(0, 80)).slice(1, -1).slice(0, 20));
          return;
        }
        // The RFC's own short spellings (QH8, and bare P, S and T for their §6.3 defaults) parse as the long form.
        const [algorithm, crypto, input] = text.split(':') as [string, string, string];
        const longForm = input.split('-').map((f) => (/^Q[NAH]\d$/.test(f) ? `${f.slice(0, 2)}0${f[2]}` : f === 'P' ? 'PSHA1' : f === 'S' ? 'S064' : f === 'T' ? 'T1M' : f));
        expect(canonical(parsed)).toBe(`${algorithm}:${crypto}:${longForm.join('-')}`);
      }),
      propertyParams(3000),
    );
  });

  it('rejects inputs that do not fit the suite with an error naming the field', () => {
    const corruption = fc.constantFrom('challenge-long', 'challenge-char', 'challenge-empty', 'counter-missing', 'counter-negative', 'pin-missing', 'pinHash-length', 'session-long', 'time-missing', 'unused-field');
    fc.assert(
      fc.property(ocraCase, corruption, (c, how) => {
        const inputs: Record<string, unknown> = { ...c.inputs };
        let field: string;
        switch (how) {
          case 'challenge-long':
            inputs.challenge = '1'.repeat(c.spec.lengthMax + 1);
            field = 'challenge';
            break;
          case 'challenge-char':
            inputs.challenge = c.spec.format === 'A' ? '12 4' : '12G4';
            field = 'challenge';
            break;
          case 'challenge-empty':
            inputs.challenge = '';
            field = 'challenge';
            break;
          case 'counter-missing':
            if (!c.spec.counter) return;
            delete inputs.counter;
            field = 'counter';
            break;
          case 'counter-negative':
            if (!c.spec.counter) return;
            inputs.counter = -1n;
            field = 'counter';
            break;
          case 'pin-missing':
            if (!c.spec.pin) return;
            delete inputs.pin;
            field = 'pin';
            break;
          case 'pinHash-length':
            if (!c.spec.pin) return;
            delete inputs.pin;
            inputs.pinHash = new Uint8Array(hashBytes[c.spec.pin] - 1);
            field = 'pinHash';
            break;
          case 'session-long':
            if (!c.spec.sessionBytes) return;
            inputs.session = new Uint8Array(c.spec.sessionBytes + 1);
            field = 'session';
            break;
          case 'time-missing':
            if (!c.spec.time) return;
            delete inputs.timeStep;
            field = 'timeStep';
            break;
          case 'unused-field':
            if (c.spec.counter) return;
            inputs.counter = 0;
            field = 'counter';
            break;
        }
        const prepared = prepareOcra(c.suite, c.key);
        try {
          expect(() => prepared.respond(inputs as unknown as OcraInputs)).toThrow(new RegExp(`^"${field}"`));
        } finally {
          prepared.destroy();
        }
      }),
      propertyParams(1500),
    );
  });
});
