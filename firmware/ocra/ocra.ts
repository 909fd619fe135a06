/**
 * The OCRA computation, RFC 6287 §5.2: HMAC over the DataInput, then HOTP dynamic truncation
 * (RFC 4226 §5.3) to `digits` decimal digits, or the whole HMAC in hex when the suite says 0.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { assertBytes, assertInteger } from '../assert.ts';
import { dataInputLength, type OcraInputs } from './data-input.ts';
import { fixedLengthHmac, type FixedLengthHmac } from './fixed-hmac.ts';
import { hashBytes, parseSuite, type OcraSuite } from './suite.ts';
import { dataInputWriter, type DataInputWriter } from './writer.ts';

export const keyBytesMin = 1;
export const keyBytesMax = 1024;

/** A key prepared for one suite: the keyed HMAC states are computed once and reloaded per response. */
export interface OcraKey {
  readonly suite: OcraSuite;
  /** The response for these inputs: `suite.digits` decimal digits, or the HMAC in hex for t = 0. */
  respond(inputs: OcraInputs): string;
  /** The full HMAC over the DataInput (a fresh array the caller may keep). */
  hmac(inputs: OcraInputs): Uint8Array;
  /** Wipe the keyed state and buffers. The key is unusable afterwards. */
  destroy(): void;
}

const powersOfTen = Array.from({ length: 11 }, (_, i) => 10 ** i);

/** HOTP dynamic truncation (RFC 4226 §5.3) to `digits` digits; 0 digits means the full HMAC in hex. */
export function truncate(mac: Uint8Array, digits: number): string {
  if (digits === 0) return bytesToHex(mac);
  assertInteger('digits', digits, 1, 10);
  return truncateChecked(mac, digits);
}

/** `truncate` for a digit count a parsed suite already vouches for (the per-response path). */
function truncateChecked(mac: Uint8Array, digits: number): string {
  if (digits === 0) return bytesToHex(mac);
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary =
    ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % powersOfTen[digits]!).padStart(digits, '0');
}

/**
 * Prepare `key` for repeated OCRA computations under one suite.
 * @example
 * const k = prepareOcra('OCRA-1:HOTP-SHA1-6:QN08', hexToBytes('3132333435363738393031323334353637383930'));
 * k.respond({ challenge: '00000000' }); // '237653' (RFC 6287 Appendix C.1)
 * k.destroy();
 */
export function prepareOcra(suite: string | OcraSuite, key: Uint8Array): OcraKey {
  const parsed = typeof suite === 'string' ? parseSuite(suite) : suite;
  assertBytes('key', key);
  if (key.length < keyBytesMin || key.length > keyBytesMax) {
    throw new RangeError(`"key" expected ${keyBytesMin}..${keyBytesMax} bytes, got ${key.length}`);
  }
  return new PreparedKey(parsed, key);
}

/**
 * A class rather than closures: a verifier prepares a key on every miss of its key cache, and an object is the
 * cheapest thing to make there (each closure is a function object, and a named one more).
 */
class PreparedKey implements OcraKey {
  readonly #keyed: FixedLengthHmac;
  readonly #dataInput: DataInputWriter;
  readonly #mac: Uint8Array;
  #destroyed = false;

  constructor(readonly suite: OcraSuite, key: Uint8Array) {
    // A suite fixes the DataInput's length, so the HMAC's padding and keyed states are worked out once here.
    this.#keyed = fixedLengthHmac(suite.hash, key, dataInputLength(suite));
    this.#dataInput = dataInputWriter(suite, this.#keyed.message);
    this.#mac = new Uint8Array(hashBytes[suite.hash]);
  }

  respond(inputs: OcraInputs): string {
    return truncateChecked(this.#compute(inputs), this.suite.digits);
  }

  hmac(inputs: OcraInputs): Uint8Array {
    return this.#compute(inputs).slice();
  }

  destroy(): void {
    this.#destroyed = true;
    this.#keyed.destroy(); // and the DataInput with it: it lives in the HMAC's message buffer
    this.#mac.fill(0);
  }

  #compute(inputs: OcraInputs): Uint8Array {
    if (this.#destroyed) throw new Error('OCRA key used after destroy()');
    this.#dataInput.write(inputs);
    this.#keyed.digestInto(this.#mac);
    return this.#mac;
  }
}

/**
 * One OCRA response, RFC 6287 §5.2. The key's HMAC state is wiped before returning.
 * @example
 * ocra('OCRA-1:HOTP-SHA1-8:QN06-PSHA1', secret, { challenge: '123456', pin: '1234' });
 */
export function ocra(suite: string | OcraSuite, key: Uint8Array, inputs: OcraInputs): string {
  const prepared = prepareOcra(suite, key);
  try {
    return prepared.respond(inputs);
  } finally {
    prepared.destroy();
  }
}

/**
 * The time step T for a suite at `epochMs` milliseconds since the Unix epoch (§6.3). The caller owns the clock.
 * @example
 * timeStepAt(parseSuite('OCRA-1:HOTP-SHA512-8:QN08-T1M'), Date.UTC(2008, 2, 25, 12)); // 0x132d0b6
 */
export function timeStepAt(suite: OcraSuite, epochMs: number): number {
  if (suite.timeStepSeconds === undefined) throw new RangeError(`suite ${JSON.stringify(suite.text)} has no time step`);
  assertInteger('epochMs', epochMs, 0, Number.MAX_SAFE_INTEGER);
  return Math.floor(epochMs / 1000 / suite.timeStepSeconds);
}
