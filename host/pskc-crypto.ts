/**
 * The PSKC (RFC 6030 §6) protections: AES-128-CBC with the IV prepended to the CipherValue (XML Encryption),
 * the value MAC HMAC-SHA1 over IV ‖ ciphertext under a MAC key that is itself sent encrypted (§6.1.1), and the
 * encryption key either pre-shared (§6.1) or derived from a password with PBKDF2 (§6.2, PKCS #5 v2.0).
 */
import { cbc } from '@noble/ciphers/aes.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

export const aesBlockBytes = 16;
/** PBKDF2 iteration counts accepted on import: at least RFC 6030's example, at most what runs in about a second. */
export const pbkdf2IterationsMin = 1_000;
export const pbkdf2IterationsMax = 1_000_000;
export const pbkdf2IterationsDefault = 100_000;

export class PskcCryptoError extends Error {
  override name = 'PskcCryptoError';
}

/** Decrypt IV ‖ ciphertext (PKCS #7 padding). */
export function aesCbcDecrypt(key: Uint8Array, ivAndCiphertext: Uint8Array, what: string): Uint8Array {
  if (key.length !== 16 && key.length !== 32) throw new PskcCryptoError(`${what}: AES key of ${key.length} bytes (expected 16 or 32)`);
  if (ivAndCiphertext.length < 2 * aesBlockBytes || ivAndCiphertext.length % aesBlockBytes !== 0) {
    throw new PskcCryptoError(`${what}: CipherValue of ${ivAndCiphertext.length} bytes is not IV + whole AES blocks`);
  }
  try {
    return cbc(key, ivAndCiphertext.subarray(0, aesBlockBytes)).decrypt(ivAndCiphertext.subarray(aesBlockBytes));
  } catch {
    throw new PskcCryptoError(`${what}: does not decrypt (wrong key or password)`);
  }
}

export function aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const body = cbc(key, iv).encrypt(plaintext);
  const out = new Uint8Array(aesBlockBytes + body.length);
  out.set(iv, 0);
  out.set(body, aesBlockBytes);
  return out;
}

export function hmacSha1(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(sha1, key, data);
}

export { equalBytes as bytesEqual } from './compare.ts';

export function pbkdf2Sha1(password: string, salt: Uint8Array, iterations: number, keyBytes: number): Uint8Array {
  if (!Number.isSafeInteger(iterations) || iterations < pbkdf2IterationsMin || iterations > pbkdf2IterationsMax) {
    throw new PskcCryptoError(`PBKDF2 IterationCount expected ${pbkdf2IterationsMin}..${pbkdf2IterationsMax}, got ${iterations}`);
  }
  return pbkdf2(sha1, utf8ToBytes(password), salt, { c: iterations, dkLen: keyBytes });
}
