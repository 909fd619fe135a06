// The fixed-length HMAC a prepared key is built on (noble's compression functions, HMAC and the SHA padding
// worked out once) against node:crypto's HMAC: random keys (shorter and longer than a block), every message
// length around the padding boundaries of both block sizes, several messages through one instance.
// Seed printed; replay with FC_SEED.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex } from '@noble/hashes/utils.js';
import { fixedHmacPath, fixedLengthHmac, fixedLengthHmacOnNoble } from '../../firmware/ocra/fixed-hmac.ts';
import { hashBytes, type HashName } from '../../firmware/ocra/suite.ts';
import { propertyParams } from '../support/seed.ts';

const nodeHash = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const;
const hashes: HashName[] = ['SHA1', 'SHA256', 'SHA512'];

function digest(hash: HashName, mac: ReturnType<typeof fixedLengthHmac>, message: Uint8Array): string {
  mac.message.set(message);
  const out = new Uint8Array(hashBytes[hash]);
  mac.digestInto(out);
  return bytesToHex(out);
}

describe('fixedLengthHmac', () => {
  it('equals node:crypto HMAC for every hash, key length and message length, message after message', () => {
    const lengths = fc.oneof(
      fc.integer({ min: 0, max: 300 }),
      // Where the padding spills into one more block: 55/56 bytes past a 64-byte block, 111/112 past a 128-byte one.
      fc.constantFrom(0, 1, 54, 55, 56, 57, 63, 64, 65, 110, 111, 112, 113, 119, 120, 127, 128, 129, 183, 184, 239, 240),
    );
    const sample = fc
      .tuple(fc.constantFrom(...hashes), fc.uint8Array({ minLength: 1, maxLength: 300 }), lengths)
      .chain(([hash, key, length]) =>
        fc.tuple(fc.constant(hash), fc.constant(key), fc.array(fc.uint8Array({ minLength: length, maxLength: length }), { minLength: 1, maxLength: 4 })),
      );
    fc.assert(
      fc.property(sample, ([hash, key, messages]) => {
        // Both paths: the compression function, and the fallback on noble's public HMAC.
        const macs = [fixedLengthHmac(hash, key, messages[0]!.length), fixedLengthHmacOnNoble(hash, key, messages[0]!.length)];
        try {
          for (const message of messages) {
            const want = createHmac(nodeHash[hash], key).update(message).digest('hex');
            for (const mac of macs) expect(digest(hash, mac, message)).toBe(want);
          }
        } finally {
          for (const mac of macs) mac.destroy();
        }
      }),
      propertyParams(600),
    );
  });

  it('runs on the compression function with the @noble/hashes in package-lock.json (its known-answer self-test passes)', () => {
    // Should a newer @noble/hashes change the internals the subclasses reach, responses stay right on the
    // fallback; this test is what says the fast path was lost.
    for (const hash of hashes) expect(fixedHmacPath(hash)).toBe('compression');
  });

  it('matches RFC 2202 and RFC 4231 test cases, including keys longer than a block', () => {
    // RFC 2202 §3 test case 6: an 80-byte key (longer than SHA-1's 64-byte block).
    const long = new Uint8Array(80).fill(0xaa);
    const text = new TextEncoder().encode('Test Using Larger Than Block-Size Key - Hash Key First');
    expect(digest('SHA1', fixedLengthHmac('SHA1', long, text.length), text)).toBe('aa4ae5e15272d00e95705637ce8a3b55ed402112');
    // RFC 4231 §4.8 test case 6: a 131-byte key (longer than SHA-512's 128-byte block).
    const key131 = new Uint8Array(131).fill(0xaa);
    const text6 = new TextEncoder().encode('Test Using Larger Than Block-Size Key - Hash Key First');
    expect(digest('SHA256', fixedLengthHmac('SHA256', key131, text6.length), text6)).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
    expect(digest('SHA512', fixedLengthHmac('SHA512', key131, text6.length), text6)).toBe(
      '80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598',
    );
  });

  it('names a bad hash, key or message length', () => {
    expect(() => fixedLengthHmac('MD5' as HashName, new Uint8Array(20), 8)).toThrow(/"hash" expected .*"MD5"/);
    expect(() => fixedLengthHmac('SHA1', 'secret' as unknown as Uint8Array, 8)).toThrow(/"key"/);
    expect(() => fixedLengthHmac('SHA1', new Uint8Array(20), -1)).toThrow(/"messageBytes".*-1/);
    expect(() => fixedLengthHmac('SHA1', new Uint8Array(20), 1.5)).toThrow(/"messageBytes".*1\.5/);
    expect(() => fixedLengthHmac('SHA256', new Uint8Array(20), 8).digestInto(new Uint8Array(20))).toThrow(/"out" expected 32 bytes, got 20/);
  });

  it('refuses to run after destroy() and wipes its buffers', () => {
    const mac = fixedLengthHmac('SHA1', new Uint8Array(20).fill(7), 8);
    const message = mac.message;
    message.fill(9);
    mac.destroy();
    expect(Array.from(message)).toEqual(new Array(8).fill(0));
    expect(() => mac.digestInto(new Uint8Array(20))).toThrow(/after destroy/);
  });

  it('destroy() wipes the keyed states, which share one buffer with the message: only the SHA padding is left', () => {
    for (const hash of hashes) {
      const mac = fixedLengthHmac(hash, new Uint8Array(20).fill(7), 8);
      const memory = new Uint8Array(mac.message.buffer, mac.message.byteOffset);
      const nonZero = () => memory.reduce((count, byte) => count + (byte === 0 ? 0 : 1), 0);
      // Before: the 0x80 marker and the bit length, and the two keyed states (random-looking words).
      expect(nonZero()).toBeGreaterThan(2 + hashBytes[hash]);
      mac.destroy();
      // After: the 0x80 marker right after the 8-byte message and the bit length (two non-zero bytes here), nothing else.
      expect(nonZero()).toBe(3);
    }
  });
});
