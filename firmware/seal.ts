/**
 * Secrets at rest: the OCRA secret is sealed in the memory image with XChaCha20-Poly1305 under the
 * device key (which the shell hands in and which never enters the image), and the digipass PIN is kept
 * only as a keyed check value, so neither the secret nor the PIN can be read from a copied image.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { assertBytes } from './assert.ts';
import { MemoryImageError, nonceBytes, pinCheckBytes } from './memory.ts';

export const deviceKeyBytes = 32;

/**
 * Seal `plain` (the caller wipes it).
 * @example
 * const sealed = seal(deviceKey, nonce, aad, secret); secret.fill(0);
 */
export function seal(deviceKey: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array): Uint8Array {
  assertBytes('deviceKey', deviceKey, deviceKeyBytes);
  assertBytes('nonce', nonce, nonceBytes);
  return xchacha20poly1305(deviceKey, nonce, aad).encrypt(plain);
}

/**
 * Unseal; a wrong key or an altered image is a MemoryImageError. The caller wipes the result.
 * @example
 * const secret = unseal(deviceKey, nonce, aad, sealed); try { … } finally { secret.fill(0); }
 */
export function unseal(deviceKey: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  assertBytes('deviceKey', deviceKey, deviceKeyBytes);
  try {
    return xchacha20poly1305(deviceKey, nonce, aad).decrypt(sealed);
  } catch {
    throw new MemoryImageError('sealed secret does not open: wrong device key, or the image was altered');
  }
}

const pinCheckLabel = 'dscplus-pin-check:';

/**
 * The digipass PIN check value: HMAC-SHA256(deviceKey, label ‖ serial ‖ PIN), first 8 bytes.
 * Keyed, so the 10,000 possible PINs cannot be tried offline against a copied image.
 * @example
 * equalBytes(pinCheckValue(deviceKey, 12345678, '2580'), stored) // firmware/compare.ts
 */
export function pinCheckValue(deviceKey: Uint8Array, serial: number, pin: string): Uint8Array {
  assertBytes('deviceKey', deviceKey, deviceKeyBytes);
  const mac = hmac(sha256, deviceKey, utf8ToBytes(`${pinCheckLabel}${serial}:${pin}`));
  const out = mac.slice(0, pinCheckBytes);
  mac.fill(0);
  return out;
}
