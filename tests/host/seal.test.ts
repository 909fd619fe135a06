/**
 * Secrets at rest (host/seal.ts): the host seals with node:crypto's ChaCha20-Poly1305 behind HChaCha20, and must
 * produce and open exactly the bytes @noble's xchacha20poly1305 did (every database before it was sealed that
 * way). Properties over random keys, nonces, contexts and plaintexts (fast-check; the seed is printed, replay with
 * FC_SEED), then every kind of damage: a flipped bit anywhere, a truncated blob, another context, another key.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SealError, nonceBytes, sealer, tagBytes } from '../../host/seal.ts';
import { propertyParams } from '../support/seed.ts';

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
const nonce = fc.uint8Array({ minLength: nonceBytes, maxLength: nonceBytes });
const context = fc.string({ unit: 'grapheme', maxLength: 40 });
const plaintext = fc.uint8Array({ maxLength: 200 });
const utf8 = (text: string) => new TextEncoder().encode(text);

/** What host/seal.ts wrote before the native AEAD: version 1 ‖ nonce ‖ @noble's XChaCha20-Poly1305 output. */
function nobleSeal(k: Uint8Array, n: Uint8Array, ctx: string, plain: Uint8Array): Uint8Array {
  const body = xchacha20poly1305(k, n, utf8(ctx)).encrypt(plain);
  return Uint8Array.from([1, ...n, ...body]);
}
function nobleOpen(k: Uint8Array, ctx: string, sealed: Uint8Array): Uint8Array {
  return xchacha20poly1305(k, sealed.subarray(1, 1 + nonceBytes), utf8(ctx)).decrypt(sealed.subarray(1 + nonceBytes));
}

describe('sealer: the same bytes as @noble XChaCha20-Poly1305', () => {
  it('seals byte for byte as @noble did, and each opens what the other sealed', () => {
    fc.assert(
      fc.property(key, nonce, context, plaintext, (k, n, ctx, plain) => {
        const native = sealer(k, () => n.slice());
        const sealed = native.seal(ctx, plain);
        const old = nobleSeal(k, n, ctx, plain);
        expect(sealed).toEqual(old);
        expect(native.open(ctx, old)).toEqual(plain); // an existing database opens
        expect(nobleOpen(k, ctx, sealed)).toEqual(plain); // and a new one opens with the old code
      }),
      propertyParams(500),
    );
  });

  it('opens a blob at any offset inside a larger buffer (as a database driver may hand it over)', () => {
    fc.assert(
      fc.property(key, nonce, context, plaintext, fc.integer({ min: 0, max: 7 }), (k, n, ctx, plain, offset) => {
        const old = nobleSeal(k, n, ctx, plain);
        const host = new Uint8Array(old.length + offset + 3);
        host.set(old, offset);
        expect(sealer(k, () => n).open(ctx, host.subarray(offset, offset + old.length))).toEqual(plain);
      }),
      propertyParams(200),
    );
  });
  it('one sealer opens blob after blob with ASCII contexts of any length, short and past its AAD scratch, as @noble does', () => {
    // The AAD of a short ASCII context is encoded into the sealer's reused scratch; a longer one, or one with
    // any other character, is encoded afresh. Each blob must open under its own context only, whatever came before.
    const asciiContext = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 });
    fc.assert(
      fc.property(key, fc.array(fc.tuple(nonce, asciiContext, plaintext), { minLength: 1, maxLength: 6 }), (k, blobs) => {
        const s = sealer(k, () => new Uint8Array(nonceBytes));
        for (const [n, ctx, plain] of blobs) {
          const old = nobleSeal(k, n, ctx, plain);
          expect(s.open(ctx, old)).toEqual(plain);
          expect(() => s.open(`${ctx}x`, old)).toThrow(SealError);
          if (ctx.length === 0) continue;
          expect(() => s.open(ctx.slice(0, -1), old)).toThrow(SealError);
          const sameLength = ctx.slice(0, -1) + (ctx.endsWith('a') ? 'b' : 'a'); // what a stale scratch would miss
          expect(() => s.open(sameLength, old)).toThrow(SealError);
        }
      }),
      propertyParams(300),
    );
  });
});

describe('sealer: damage never opens', () => {
  it('a flipped bit anywhere in the blob throws SealError', () => {
    fc.assert(
      fc.property(key, nonce, context, plaintext, fc.nat(), fc.integer({ min: 0, max: 7 }), (k, n, ctx, plain, at, bit) => {
        const s = sealer(k, () => n);
        const sealed = s.seal(ctx, plain);
        sealed[at % sealed.length]! ^= 1 << bit;
        expect(() => s.open(ctx, sealed)).toThrow(SealError);
      }),
      propertyParams(500),
    );
  });

  it('another context (another row or field), another key, or a truncated blob throws SealError', () => {
    fc.assert(
      fc.property(key, key, nonce, context, context, plaintext, (k, other, n, ctx, otherCtx, plain) => {
        fc.pre(otherCtx !== ctx);
        const s = sealer(k, () => n);
        const sealed = s.seal(ctx, plain);
        expect(() => s.open(otherCtx, sealed)).toThrow(SealError);
        if (other.some((b, i) => b !== k[i])) expect(() => sealer(other, () => n).open(ctx, sealed)).toThrow(SealError);
        expect(() => s.open(ctx, sealed.subarray(0, sealed.length - 1))).toThrow(SealError);
        expect(() => s.open(ctx, sealed.subarray(0, 1 + nonceBytes + tagBytes - 1))).toThrow(SealError);
      }),
      propertyParams(300),
    );
  });

  it('the error names the context and the likely cause, and never carries the plaintext', () => {
    const s = sealer(new Uint8Array(32).fill(1), () => new Uint8Array(nonceBytes).fill(2));
    const sealed = s.seal('device:42:secret', utf8('top secret value'));
    sealed[sealed.length - 1]! ^= 0x80;
    expect(() => s.open('device:42:secret', sealed)).toThrow(/^sealed device:42:secret does not open: wrong host key/);
    expect(() => s.open('device:42:secret', sealed)).not.toThrow(/top secret/);
    expect(() => s.open('device:42:secret', new Uint8Array(3))).toThrow(/sealed device:42:secret is malformed \(3 bytes\)/);
  });
});
