/**
 * Secrets at rest: XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) under the host key, a fresh 24-byte random
 * nonce per seal. The associated data binds each sealed blob to its row and field (`device:SERIAL:secret`), so a
 * blob copied into another row does not open. The database alone never reveals a secret.
 *
 * Sealed layout: version byte (1) ‖ nonce (24) ‖ ciphertext+tag.
 *
 * The AEAD is OpenSSL's ChaCha20-Poly1305 (node:crypto) behind HChaCha20 from @noble/ciphers: XChaCha20-Poly1305
 * is, by its definition (draft §2.3), ChaCha20-Poly1305 (RFC 8439) under the subkey HChaCha20(key, nonce[0..16])
 * with the 12-byte nonce 0x00000000 ‖ nonce[16..24]. node:crypto has no XChaCha, and a verifier opens two blobs
 * on every key-cache miss: @noble's pure-JS Poly1305 made those two opens most of a miss's CPU (docs/bench.md).
 * The bytes are the same as @noble's `xchacha20poly1305` (which sealed every database before), so old databases
 * open and new ones open with it; tests/host/seal.test.ts holds the two to each other. The card keeps @noble
 * (firmware/seal.ts): the firmware is pure.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';
import { assertBytes } from '../firmware/assert.ts';

export const hostKeyBytes = 32;
export const nonceBytes = 24;
export const tagBytes = 16;
const sealVersion = 1;
/** HChaCha20 takes the first 16 nonce bytes; the last 8 become the IETF nonce after 4 zero bytes. */
const hchachaNonceBytes = 16;
const ietfNonceBytes = 12;
const aead = 'chacha20-poly1305';
/** The tag length is stated, so that OpenSSL takes no shorter tag. */
const tagOptions = { authTagLength: tagBytes };
/** Associated data up to this many bytes is encoded into a sealer's scratch buffer; longer goes through Buffer.from. */
const aadScratchBytes = 256;

/** ChaCha's constant "expand 32-byte k", as the words of its bytes (the view HChaCha20 reads, as @noble's XChaCha passes it). */
const sigmaWords = new Uint32Array(Uint8Array.from('expand 32-byte k', (c) => c.charCodeAt(0)).buffer);

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
 * One sealer's scratch buffers: the two halves of an XChaCha20 nonce as ChaCha20-Poly1305 takes them (the subkey
 * HChaCha20(key, nonce[0..16]) and the IETF nonce 0 ‖ nonce[16..24]), the associated data and the tag. Reused: a
 * miss of the key cache opens two blobs, and fresh buffers and views for each were a good part of its cost.
 * The caller wipes the subkey; the rest is not secret.
 */
class Scratch {
  readonly #keyWords: Uint32Array;
  readonly #prefixWords = new Uint32Array(hchachaNonceBytes / 4);
  readonly #prefix = new Uint8Array(this.#prefixWords.buffer);
  readonly #subkeyWords = new Uint32Array(hostKeyBytes / 4);
  readonly subkey = new Uint8Array(this.#subkeyWords.buffer);
  readonly ietfNonce = new Uint8Array(ietfNonceBytes);
  readonly #aad = new ArrayBuffer(aadScratchBytes);
  readonly #aadBytes = new Uint8Array(this.#aad);
  /** Views of the AAD scratch by length, each made once (at most `aadScratchBytes` + 1 of them). */
  readonly #aadViews: (Uint8Array | undefined)[] = [];
  readonly #tag = new Uint8Array(new ArrayBuffer(tagBytes));

  constructor(hostKey: Uint8Array) {
    this.#keyWords = new Uint32Array(hostKey.slice().buffer);
  }

  /**
   * Derive `subkey` and `ietfNonce` from the 24-byte nonce at `at` in `bytes` (copied byte by byte into aligned
   * words: for so few bytes a loop beats `subarray` and `set`).
   */
  derive(bytes: Uint8Array, at: number): void {
    const prefix = this.#prefix;
    for (let i = 0; i < hchachaNonceBytes; i++) prefix[i] = bytes[at + i]!;
    hchacha(sigmaWords, this.#keyWords, this.#prefixWords, this.#subkeyWords);
    const ietfNonce = this.ietfNonce;
    const skip = ietfNonceBytes - (nonceBytes - hchachaNonceBytes);
    for (let i = hchachaNonceBytes; i < nonceBytes; i++) ietfNonce[skip + i - hchachaNonceBytes] = bytes[at + i]!;
  }

  /** The subkey zeroed. */
  wipe(): void {
    this.#subkeyWords.fill(0);
  }

  /** `context` as UTF-8 bytes: in the scratch buffer when it is short ASCII (every context this file makes). */
  aad(context: string): Uint8Array {
    const length = context.length;
    if (length > aadScratchBytes) return Buffer.from(context, 'utf8');
    const bytes = this.#aadBytes;
    for (let i = 0; i < length; i++) {
      const code = context.charCodeAt(i);
      if (code >= 0x80) return Buffer.from(context, 'utf8');
      bytes[i] = code;
    }
    return (this.#aadViews[length] ??= new Uint8Array(this.#aad, 0, length));
  }

  /** The 16-byte tag at `at` in `bytes`, copied into the scratch (a copy is cheaper than a view of a Buffer). */
  tagOf(bytes: Uint8Array, at: number): Uint8Array {
    const tag = this.#tag;
    for (let i = 0; i < tagBytes; i++) tag[i] = bytes[at + i]!;
    return tag;
  }
}

/** A view of `length` bytes of `bytes` from `at`, without `subarray`'s species lookup (a Buffer's is slower). */
function view(bytes: Uint8Array, at: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + at, length);
}

/**
 * @example
 * const s = sealer(hostKey, (n) => crypto.getRandomValues(new Uint8Array(n)));
 * const blob = s.seal('device:123:secret', secret);
 * s.open('device:123:secret', blob); // secret
 */
export function sealer(hostKey: Uint8Array, random: (bytes: number) => Uint8Array): Sealer {
  assertBytes('hostKey', hostKey, hostKeyBytes);
  const x = new Scratch(hostKey);
  return {
    seal(context, plaintext) {
      const nonce = random(nonceBytes);
      assertBytes('nonce', nonce, nonceBytes);
      x.derive(nonce, 0);
      try {
        const cipher = createCipheriv(aead, x.subkey, x.ietfNonce, tagOptions);
        cipher.setAAD(x.aad(context), { plaintextLength: plaintext.length });
        const out = new Uint8Array(1 + nonceBytes + plaintext.length + tagBytes);
        out[0] = sealVersion;
        out.set(nonce, 1);
        out.set(cipher.update(plaintext), 1 + nonceBytes);
        cipher.final();
        out.set(cipher.getAuthTag(), 1 + nonceBytes + plaintext.length);
        return out;
      } finally {
        x.wipe();
      }
    },
    open(context, sealed) {
      const length = sealed.length;
      if (length < 1 + nonceBytes + tagBytes || sealed[0] !== sealVersion) {
        throw new SealError(`sealed ${context} is malformed (${length} bytes)`);
      }
      x.derive(sealed, 1);
      let plaintext: Uint8Array | undefined;
      try {
        const decipher = createDecipheriv(aead, x.subkey, x.ietfNonce, tagOptions);
        const bodyBytes = length - 1 - nonceBytes - tagBytes;
        decipher.setAAD(x.aad(context), { plaintextLength: bodyBytes });
        decipher.setAuthTag(x.tagOf(sealed, length - tagBytes));
        plaintext = decipher.update(view(sealed, 1 + nonceBytes, bodyBytes));
        decipher.final(); // throws when the tag does not match: the plaintext above is then wiped, never returned
        return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.length);
      } catch {
        plaintext?.fill(0);
        throw new SealError(`sealed ${context} does not open: wrong host key (DSC_HOST_KEY / key file) or a tampered database`);
      } finally {
        x.wipe();
      }
    },
  };
}

/** The associated data of each sealed field: a blob only opens in the row and field it was sealed for. */
export const secretContext = (serial: string): string => `device:${serial}:secret`;
export const pinContext = (serial: string): string => `device:${serial}:pin`;
export const pinChangeContext = (serial: string): string => `pin-change:${serial}`;
