// The prepared key's DataInput writer (a fast path, a reused buffer that only re-zeroes the question bytes it
// dirtied) against the general writer on a fresh buffer, over random sequences of inputs through one key:
// valid ones of every length, inputs only the general path takes, and inputs that must be refused.
// Seed printed; replay with FC_SEED.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex } from '@noble/hashes/utils.js';
import { parseSuite, prepareOcra, type OcraInputs, type OcraKey } from '../../firmware/ocra/index.ts';
import { dataInputLength, writeDataInput } from '../../firmware/ocra/data-input.ts';
import { hashBytes, type OcraSuite } from '../../firmware/ocra/suite.ts';
import { suiteSpec, suiteText } from '../support/arbitraries.ts';
import { propertyParams } from '../support/seed.ts';

const nodeHash = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const;

/** The general writer on a fresh buffer, then node:crypto's HMAC: what every response must equal. */
function expected(suite: OcraSuite, key: Uint8Array, inputs: OcraInputs): { hmac: string } | { error: string } {
  const bytes = new Uint8Array(dataInputLength(suite));
  bytes.set(new TextEncoder().encode(suite.text));
  try {
    writeDataInput(suite, inputs, bytes);
  } catch (error) {
    return { error: (error as Error).message };
  }
  return { hmac: createHmac(nodeHash[suite.hash], key).update(bytes).digest('hex') };
}

function actual(key: OcraKey, inputs: OcraInputs): { hmac: string } | { error: string } {
  try {
    return { hmac: bytesToHex(key.hmac(inputs)) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const numericSuite = suiteSpec.map((spec) => ({ ...spec, format: 'N' as const }));
const digits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'.split('')), { minLength: min, maxLength: max }).map((a) => a.join(''));

/** One response's inputs for `suite`: mostly ones the fast path takes, some only the general path takes, some wrong. */
function inputsFor(suite: OcraSuite): fc.Arbitrary<OcraInputs> {
  const count = fc.oneof(fc.maxSafeNat(), fc.nat(1000), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
  const pinHashBytes = suite.pin ? hashBytes[suite.pin] : 20;
  const pinHash = fc.uint8Array({ minLength: pinHashBytes, maxLength: pinHashBytes });
  const valid = fc.record({
    challenge: fc.oneof(digits(1, Math.min(9, suite.question.lengthMax)), digits(1, suite.question.lengthMax)),
    counter: count,
    pin: fc.oneof(pinHash.map((pinHash) => ({ pinHash })), fc.string({ minLength: 1, maxLength: 8 }).map((pin) => ({ pin }))),
    session: fc.uint8Array({ maxLength: suite.sessionBytes ?? 0 }),
    timeStep: count,
  }).map(({ challenge, counter, pin, session, timeStep }): OcraInputs => ({
    challenge,
    ...(suite.counter && { counter }),
    ...(suite.pin && pin),
    ...(suite.sessionBytes !== undefined && { session }),
    ...(suite.timeStepSeconds !== undefined && { timeStep }),
  }));
  const wrong = fc.tuple(valid, fc.constantFrom('letter', 'empty', 'long', 'pinHash', 'unused', 'negative', 'fraction')).map(
    ([inputs, how]): OcraInputs => {
      switch (how) {
        case 'letter': return { ...inputs, challenge: `${inputs.challenge as string}x` };
        case 'empty': return { ...inputs, challenge: '' };
        case 'long': return { ...inputs, challenge: '9'.repeat(suite.question.lengthMax + 1) };
        case 'pinHash': return { ...inputs, pin: undefined, pinHash: new Uint8Array(pinHashBytes + 1) };
        case 'unused': return suite.counter ? { ...inputs, session: suite.sessionBytes ? inputs.session : new Uint8Array(1) } : { ...inputs, counter: 1 };
        case 'negative': return suite.timeStepSeconds ? { ...inputs, timeStep: -1 } : { ...inputs, counter: -1 };
        case 'fraction': return suite.counter ? { ...inputs, counter: 1.5 } : { ...inputs, timeStep: 0.5 };
      }
      return inputs;
    },
  );
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: wrong });
}

describe('the prepared key’s DataInput writer', () => {
  it('writes what the general writer writes on a fresh buffer, response after response, errors included', () => {
    const sequence = numericSuite.chain((spec) => {
      const suite = parseSuite(suiteText(spec));
      return fc.tuple(fc.constant(suite), fc.uint8Array({ minLength: 1, maxLength: 80 }), fc.array(inputsFor(suite), { minLength: 1, maxLength: 12 }));
    });
    fc.assert(
      fc.property(sequence, ([suite, key, steps]) => {
        const prepared = prepareOcra(suite, key);
        try {
          for (const inputs of steps) expect(actual(prepared, inputs)).toEqual(expected(suite, key, inputs));
        } finally {
          prepared.destroy();
        }
      }),
      propertyParams(400),
    );
  });

  it('zeroes the bytes a longer question left behind (a long challenge, then a short one)', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA1-8:QN10-PSHA1');
    const key = new Uint8Array(20).fill(7);
    const prepared = prepareOcra(suite, key);
    const pinHash = new Uint8Array(20).fill(1);
    for (const challenge of ['9999999999', '1', '99999999', '65536', '0', '4294967295', '4294967296', '7']) {
      expect(actual(prepared, { challenge, pinHash })).toEqual(expected(suite, key, { challenge, pinHash }));
    }
    prepared.destroy();
  });
});
