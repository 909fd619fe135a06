/**
 * Secrets at rest: XChaCha20-Poly1305 (an AEAD from @noble/ciphers) under the host key, a fresh 24-byte random
 * nonce per seal. The associated data binds each sealed blob to its row and field (`device:SERIAL:secret`), so a
 * blob copied into another row does not open. The database alone never reveals a secret.
 *
 * Sealed layout: version byte (1) ‖ nonce (24) ‖ ciphertext+tag.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { assertBytes } from '../firmware/assert.ts';

export const hostKeyBytes = 32;
export const nonceBytes = 24;
const sealVersion = 1;

/** A sealed blob that does not open: wrong host key, or the database was tampered with. */
export class SealError extends Error {
  override name = 'SealError';
}

export interface Sealer {
  seal(context: string, plaintext: Uint8Array): Uint8Array;
  /** The plaintext (the caller wipes it), or a SealError. */
  open(context: string, sealed: Uint8Array): Uint8Array;
}

/**
 * @example
 * const s = sealer(hostKey, (n) => crypto.getRandomValues(new Uint8Array(n)));
 * const blob = s.seal('device:123:secret', secret);
 * s.open('device:123:secret', blob); // secret
 */
export function sealer(hostKey: Uint8Array, random: (bytes: number) => Uint8Array): Sealer {
  assertBytes('hostKey', hostKey, hostKeyBytes);
  const key = hostKey.slice();
  return {
    seal(context, plaintext) {
      const nonce = random(nonceBytes);
      const body = xchacha20poly1305(key, nonce, utf8ToBytes(context)).encrypt(plaintext);
      const out = new Uint8Array(1 + nonceBytes + body.length);
      out[0] = sealVersion;
      out.set(nonce, 1);
      out.set(body, 1 + nonceBytes);
      return out;
    },
    open(context, sealed) {
      if (sealed.length < 1 + nonceBytes + 16 || sealed[0] !== sealVersion) {
        throw new SealError(`sealed ${context} is malformed (${sealed.length} bytes)`);
      }
      try {
        return xchacha20poly1305(key, sealed.subarray(1, 1 + nonceBytes), utf8ToBytes(context)).decrypt(sealed.subarray(1 + nonceBytes));
      } catch {
        throw new SealError(`sealed ${context} does not open: wrong host key (DSC_HOST_KEY / key file) or a tampered database`);
      }
    },
  };
}

/** The associated data of each sealed field: a blob only opens in the row and field it was sealed for. */
export const secretContext = (serial: string): string => `device:${serial}:secret`;
export const pinContext = (serial: string): string => `device:${serial}:pin`;
export const pinChangeContext = (serial: string): string => `pin-change:${serial}`;
