// The shared SHA cores (firmware/ocra/sha-core.ts): one instance per hash serves every prepared key's HMAC and
// every short PIN hash, each user loading its own state. Held to node:crypto: PIN hashes over any text (short
// ASCII on the core, the rest on noble's public hash), and keys of one hash used in any interleaving with each
// other and with PIN hashes. Seed printed; replay with FC_SEED.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex } from '@noble/hashes/utils.js';
import { hashPin } from '../../firmware/ocra/data-input.ts';
import { fixedLengthHmac } from '../../firmware/ocra/fixed-hmac.ts';
import { shaCore, shortTextCharsMax } from '../../firmware/ocra/sha-core.ts';
import { hashBytes, type HashName } from '../../firmware/ocra/suite.ts';
import { propertyParams } from '../support/seed.ts';

const nodeHash = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const;
const hashes: HashName[] = ['SHA1', 'SHA256', 'SHA512'];
const hashName = fc.constantFrom(...hashes);
const asciiChar = fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c));
/** ASCII texts around the one-block limit, and texts with any character (those take noble's public hash). */
const pinText = fc.oneof(
  fc.string({ unit: asciiChar, minLength: 1, maxLength: shortTextCharsMax + 10 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
);

describe('shared SHA cores', () => {
  it('pass their known-answer test with the @noble/hashes in package-lock.json (else PINs and keys take the slower path)', () => {
    for (const hash of hashes) expect(shaCore(hash)).toBeDefined();
  });

  it('hashPin equals node:crypto over the UTF-8 bytes of any PIN text', () => {
    fc.assert(
      fc.property(hashName, pinText, (hash, pin) => {
        expect(bytesToHex(hashPin(hash, pin))).toBe(createHash(nodeHash[hash]).update(pin, 'utf8').digest('hex'));
      }),
      propertyParams(1000),
    );
  });

  it('keys of the same hash, used in any order and between PIN hashes, each give node:crypto HMAC', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('digest' as const), which: fc.nat(), message: fc.uint8Array({ minLength: 64, maxLength: 64 }) }),
      fc.record({ kind: fc.constant('pin' as const), hash: hashName, pin: pinText }),
      fc.record({ kind: fc.constant('destroy' as const), which: fc.nat() }),
    );
    const keys = fc.array(fc.tuple(hashName, fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.integer({ min: 0, max: 64 })), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(keys, fc.array(op, { minLength: 1, maxLength: 30 }), (specs, ops) => {
        const macs = specs.map(([hash, key, length]) => ({ hash, key, length, mac: fixedLengthHmac(hash, key, length), alive: true }));
        try {
          for (const o of ops) {
            if (o.kind === 'pin') {
              expect(bytesToHex(hashPin(o.hash, o.pin))).toBe(createHash(nodeHash[o.hash]).update(o.pin, 'utf8').digest('hex'));
              continue;
            }
            const m = macs[o.which % macs.length]!;
            if (o.kind === 'destroy') {
              m.mac.destroy();
              m.alive = false;
              continue;
            }
            if (!m.alive) continue;
            const message = o.message.subarray(0, m.length);
            m.mac.message.set(message);
            const out = new Uint8Array(hashBytes[m.hash]);
            m.mac.digestInto(out);
            expect(bytesToHex(out)).toBe(createHmac(nodeHash[m.hash], m.key).update(message).digest('hex'));
          }
        } finally {
          for (const m of macs) m.mac.destroy();
        }
      }),
      propertyParams(400),
    );
  });
});
