/**
 * Properties of the key file formats: whatever keys are written (any suite a card runs, counters up to the
 * import bound, PINs, owners, check digits), under any protection, reading gives them back exactly; one
 * flipped character in an encrypted container is refused, never read as another key.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readOathCsv, writeOathCsv } from '../../host/oath-csv.ts';
import { ocraUrn, readPskc, writePskc, type PskcKey, type PskcProtection } from '../../host/pskc.ts';
import { importCounterMax } from '../../host/transfer/import.ts';
import { propertyParams } from '../support/seed.ts';

const suite = fc.record({
  hash: fc.constantFrom('SHA1', 'SHA256', 'SHA512'),
  digits: fc.integer({ min: 4, max: 10 }),
  counter: fc.boolean(),
  q: fc.integer({ min: 4, max: 16 }),
  pin: fc.constantFrom('', '-PSHA1', '-PSHA256', '-P'),
  time: fc.constantFrom('', '-T1M', '-T30S', '-T'),
}).map((s) => `OCRA-1:HOTP-${s.hash}-${s.digits}:${s.counter ? 'C-' : ''}QN${String(s.q).padStart(2, '0')}${s.pin}${s.time}`);

const name = fc.stringMatching(/^[A-Za-z0-9._@+-]{1,20}$/);

const key = fc.record({
  serial: name, suite, secret: fc.uint8Array({ minLength: 16, maxLength: 64 }),
  counter: fc.option(fc.integer({ min: 0, max: importCounterMax }), { nil: undefined }),
  checkDigits: fc.option(fc.boolean(), { nil: undefined }),
  pin: fc.option(fc.stringMatching(/^\d{4}$/), { nil: undefined }),
  userId: fc.option(name, { nil: undefined }),
});

const keys = fc.uniqueArray(key, { selector: (k) => k.serial, minLength: 1, maxLength: 5 });

const protection = fc.oneof(
  fc.constant<PskcProtection>({ type: 'none' }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((k): PskcProtection => ({ type: 'preshared', keyName: 'K', key: k })),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((k): PskcProtection => ({ type: 'preshared', keyName: 'K', key: k })),
  fc.constant<PskcProtection>({ type: 'password', keyName: 'K', password: 'pw', iterations: 1 }),
);

let counter = 0;
/** Deterministic "random" bytes for IVs and MAC keys, so a failing case replays from the seed. */
const random = (n: number) => Uint8Array.from({ length: n }, () => (counter = (counter * 1103515245 + 12345) >>> 0) & 0xff);

function decryptKeys(p: PskcProtection) {
  return p.type === 'preshared' ? { presharedKey: p.key.slice() } : p.type === 'password' ? { password: p.password } : {};
}

describe('PSKC and OATH CSV properties', () => {
  it('PSKC: every key written under any protection reads back exactly', () => {
    fc.assert(
      fc.property(keys, protection, (ks, p) => {
        const written: PskcKey[] = ks.map((k) => ({ id: k.serial, algorithm: ocraUrn, ...k, secret: k.secret.slice(), ...(k.pin !== undefined && { pinPolicy: { usage: 'Algorithmic' as const } }) }));
        const read = readPskc(writePskc(written, p, random), decryptKeys(p));
        expect(read.skipped).toEqual([]);
        expect(read.keys.map((k) => ({ serial: k.serial, suite: k.suite, secret: Buffer.from(k.secret).toString('hex'), counter: k.counter, checkDigits: k.checkDigits, pin: k.pin, userId: k.userId })))
          .toEqual(ks.map((k) => ({ serial: k.serial, suite: k.suite, secret: Buffer.from(k.secret).toString('hex'), counter: k.counter, checkDigits: k.checkDigits, pin: k.pin, userId: k.userId })));
      }),
      propertyParams(150),
    );
  });

  it('OATH CSV: every key written reads back exactly', () => {
    fc.assert(
      fc.property(keys, (ks) => {
        const read = readOathCsv(writeOathCsv(ks));
        expect(read.skipped).toEqual([]);
        expect(read.keys.map((k) => ({ serial: k.serial, suite: k.suite, secret: Buffer.from(k.secret).toString('hex'), counter: k.counter, checkDigits: k.checkDigits, pin: k.pin, userId: k.userId })))
          .toEqual(ks.map((k) => ({ serial: k.serial, suite: k.suite, secret: Buffer.from(k.secret).toString('hex'), counter: k.counter, checkDigits: k.checkDigits, pin: k.pin, userId: k.userId })));
      }),
      propertyParams(300),
    );
  });

  it('an encrypted container with one base64 character of a CipherValue or ValueMAC changed is refused, naming a key', () => {
    fc.assert(
      fc.property(keys, fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(), fc.nat(), (ks, aes, pick, to) => {
        const p: PskcProtection = { type: 'preshared', keyName: 'K', key: aes };
        const xml = writePskc(ks.map((k) => ({ id: k.serial, algorithm: ocraUrn, ...k, secret: k.secret.slice() })), p, random);
        // Values after the MAC key's own: the keys' CipherValues and ValueMACs.
        const macKeyEnd = xml.indexOf('</MACMethod>');
        const spots = [...xml.matchAll(/<(?:xenc:CipherValue|ValueMAC)>([A-Za-z0-9+/]+)/g)].filter((m) => m.index! > macKeyEnd);
        const spot = spots[pick % spots.length]!;
        const at = spot.index! + spot[0].length - spot[1]!.length + (to % Math.max(1, spot[1]!.length - 2));
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
        const replacement = alphabet[(alphabet.indexOf(xml[at]!) + 1 + (to % 63)) % 64]!;
        const altered = xml.slice(0, at) + replacement + xml.slice(at + 1);
        const read = readPskc(altered, { presharedKey: aes.slice() });
        expect(read.skipped.length).toBeGreaterThan(0);
        expect(read.skipped[0]!.reason).toMatch(/^key "[^"]+" (Data\/\w+|Policy\/PINPolicy PINKeyId)/);
      }),
      propertyParams(150),
    );
  });
});
