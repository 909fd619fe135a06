/**
 * The PSKC (RFC 6030 §6) protections, by algorithm URI: AES-128/192/256-CBC with the IV prepended to the
 * CipherValue (XML Encryption), AES key wrap (RFC 3394, and RFC 5649 with padding), value MACs HMAC-SHA1 or
 * HMAC-SHA224/256/384/512 over IV ‖ ciphertext (§6.1.1), and the encryption key either pre-shared (§6.1) or
 * derived from a password with PBKDF2 (§6.2, PKCS #5 v2.0) under an HMAC PRF.
 */
import { aeskw, aeskwp, cbc } from '@noble/ciphers/aes.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

export const aesBlockBytes = 16;
/**
 * PBKDF2 iteration counts accepted on import. Below `pbkdf2IterationsWarnBelow` (RFC 6030's own example) the
 * import goes on with a warning, because a real vendor sample uses 249; above the maximum it would run for
 * more than about a second, which a hostile file could use to stall the importer.
 */
export const pbkdf2IterationsMin = 1;
export const pbkdf2IterationsWarnBelow = 1_000;
export const pbkdf2IterationsMax = 1_000_000;
export const pbkdf2IterationsDefault = 100_000;

export class PskcCryptoError extends Error {
  override name = 'PskcCryptoError';
}

const xmlenc = 'http://www.w3.org/2001/04/xmlenc#';
const xmlenc11 = 'http://www.w3.org/2009/xmlenc11#';

export type Encryption = { mode: 'cbc' | 'kw' | 'kwp'; keyBytes: 16 | 24 | 32 };

/** The encryption algorithms RFC 6030 §6.1 allows (AES only: 3DES and Camellia keys are refused by name). */
export const encryptionAlgorithms: Readonly<Record<string, Encryption>> = {
  [`${xmlenc}aes128-cbc`]: { mode: 'cbc', keyBytes: 16 },
  [`${xmlenc}aes192-cbc`]: { mode: 'cbc', keyBytes: 24 },
  [`${xmlenc}aes256-cbc`]: { mode: 'cbc', keyBytes: 32 },
  [`${xmlenc}kw-aes128`]: { mode: 'kw', keyBytes: 16 },
  [`${xmlenc}kw-aes192`]: { mode: 'kw', keyBytes: 24 },
  [`${xmlenc}kw-aes256`]: { mode: 'kw', keyBytes: 32 },
  [`${xmlenc11}kw-aes-128-pad`]: { mode: 'kwp', keyBytes: 16 },
  [`${xmlenc11}kw-aes-192-pad`]: { mode: 'kwp', keyBytes: 24 },
  [`${xmlenc11}kw-aes-256-pad`]: { mode: 'kwp', keyBytes: 32 },
};

export const aes128CbcUri = `${xmlenc}aes128-cbc`;
export const aes256CbcUri = `${xmlenc}aes256-cbc`;

const hashes = { sha1, sha224, sha256, sha384, sha512 } as const;
type HashName = keyof typeof hashes;

/** HMAC algorithm URIs (XML DSig and RFC 6931 "xmldsig-more"), for value MACs and for the PBKDF2 PRF. */
export const hmacAlgorithms: Readonly<Record<string, HashName>> = {
  'http://www.w3.org/2000/09/xmldsig#hmac-sha1': 'sha1',
  'http://www.w3.org/2001/04/xmldsig-more#hmac-sha224': 'sha224',
  'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#hmac-sha384': 'sha384',
  'http://www.w3.org/2001/04/xmldsig-more#hmac-sha512': 'sha512',
};
export const hmacSha1Uri = 'http://www.w3.org/2000/09/xmldsig#hmac-sha1';
export const hmacSha256Uri = 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256';

function checkKey(key: Uint8Array, algorithm: Encryption, what: string): void {
  if (key.length !== algorithm.keyBytes) {
    throw new PskcCryptoError(`${what}: the ${algorithm.mode === 'cbc' ? 'AES-CBC' : 'AES key wrap'} algorithm takes a ${algorithm.keyBytes * 8}-bit key, the key given has ${key.length * 8} bits`);
  }
}

/** Decrypt a CipherValue: IV ‖ ciphertext for CBC (PKCS #7 padding), the wrapped key for key wrap. */
export function decryptValue(algorithm: Encryption, key: Uint8Array, cipherValue: Uint8Array, what: string): Uint8Array {
  checkKey(key, algorithm, what);
  if (algorithm.mode === 'cbc') {
    if (cipherValue.length < 2 * aesBlockBytes || cipherValue.length % aesBlockBytes !== 0) {
      throw new PskcCryptoError(`${what}: CipherValue of ${cipherValue.length} bytes is not IV + whole AES blocks`);
    }
    try {
      return cbc(key, cipherValue.subarray(0, aesBlockBytes)).decrypt(cipherValue.subarray(aesBlockBytes));
    } catch {
      throw new PskcCryptoError(`${what}: does not decrypt (wrong key or password)`);
    }
  }
  try {
    if (algorithm.mode === 'kwp') return aeskwp(key).decrypt(cipherValue);
    // Writers (python-pskc among them) pad a value that is not a multiple of 8 bytes per RFC 5649 under the
    // plain key-wrap URI. The two initial values differ (RFC 3394 §2.2.3, RFC 5649 §3), so at most one unwraps.
    try {
      return aeskw(key).decrypt(cipherValue);
    } catch {
      return aeskwp(key).decrypt(cipherValue);
    }
  } catch {
    // The key wrap's integrity check failed: RFC 3394 §2.2.3 makes that the unwrap's own MAC.
    throw new PskcCryptoError(`${what}: the key wrap does not unwrap (wrong key or password, or an altered value)`);
  }
}

export function encryptValue(algorithm: Encryption, key: Uint8Array, plaintext: Uint8Array, random: (bytes: number) => Uint8Array): Uint8Array {
  checkKey(key, algorithm, 'encryption key');
  if (algorithm.mode !== 'cbc') return (algorithm.mode === 'kw' ? aeskw : aeskwp)(key).encrypt(plaintext);
  const iv = random(aesBlockBytes);
  const body = cbc(key, iv).encrypt(plaintext);
  const out = new Uint8Array(aesBlockBytes + body.length);
  out.set(iv, 0);
  out.set(body, aesBlockBytes);
  return out;
}

export function hmacOf(algorithmUri: string, key: Uint8Array, data: Uint8Array): Uint8Array {
  const name = hmacAlgorithms[algorithmUri];
  if (!name) throw new PskcCryptoError(`unsupported HMAC ${JSON.stringify(algorithmUri)} (HMAC-SHA1, -SHA224, -SHA256, -SHA384 or -SHA512)`);
  return hmac(hashes[name], key, data);
}

/** The MAC key length RFC 6030 examples use: the hash's output length. */
export function hmacKeyBytes(algorithmUri: string): number {
  const name = hmacAlgorithms[algorithmUri];
  if (!name) throw new PskcCryptoError(`unsupported HMAC ${JSON.stringify(algorithmUri)}`);
  return hashes[name].outputLen;
}

/**
 * PBKDF2 under an HMAC PRF (HMAC-SHA1 when the file names none, as PKCS #5 says).
 * @example
 * pbkdf2Key('qwerty', salt, 1000, 16) // RFC 6030 §6.2's key
 */
export function pbkdf2Key(password: string, salt: Uint8Array, iterations: number, keyBytes: number, prfUri: string = hmacSha1Uri): Uint8Array {
  if (!Number.isSafeInteger(iterations) || iterations < pbkdf2IterationsMin || iterations > pbkdf2IterationsMax) {
    throw new PskcCryptoError(`PBKDF2 IterationCount expected ${pbkdf2IterationsMin}..${pbkdf2IterationsMax}, got ${iterations}`);
  }
  const name = hmacAlgorithms[prfUri];
  if (!name) throw new PskcCryptoError(`unsupported PBKDF2 PRF ${JSON.stringify(prfUri)}`);
  return pbkdf2(hashes[name], utf8ToBytes(password), salt, { c: iterations, dkLen: keyBytes });
}
