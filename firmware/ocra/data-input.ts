/**
 * The OCRA DataInput, RFC 6287 §5.1:
 *
 *   DataInput = OCRASuite ‖ 0x00 ‖ C (8 bytes) ‖ Q (128 bytes) ‖ P ‖ S ‖ T (8 bytes)
 *
 * Each field is present only when the suite names it. Encodings follow the RFC's reference code
 * (Appendix A): the question is turned into hex and left-aligned in 128 bytes, zero-filled on the right,
 * so an odd-length hex question is aligned by half a byte; session information is right-aligned.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { assertBytes, assertString, describe } from '../assert.ts';
import { shortAsciiDigest } from './sha-core.ts';
import { hashBytes, type HashName, type OcraSuite } from './suite.ts';

export const questionBytes = 128;
export const counterBytes = 8;
export const timeBytes = 8;
const uint64Max = (1n << 64n) - 1n;

export const hashFunctions = { SHA1: sha1, SHA256: sha256, SHA512: sha512 } as const;

/** What the caller supplies; which fields are needed depends on the suite. */
export interface OcraInputs {
  /** The question. A pair is the two challenges of mutual challenge-response (§7.3, Appendix C.2), concatenated in the given order. */
  readonly challenge: string | readonly [string, string];
  readonly counter?: bigint | number;
  /** The PIN in the clear; hashed with the suite's P hash. Give this or `pinHash`, not both. */
  readonly pin?: string;
  readonly pinHash?: Uint8Array;
  /** Session information, at most the suite's Snnn bytes; shorter values are right-aligned as in the reference code. */
  readonly session?: Uint8Array;
  /** The number of time steps since the Unix epoch (see `timeStepAt`). */
  readonly timeStep?: bigint | number;
}

/** Byte length of the DataInput for a suite: what a prepared key allocates once. */
export function dataInputLength(suite: OcraSuite): number {
  return (
    suite.text.length + 1 +
    (suite.counter ? counterBytes : 0) +
    questionBytes +
    (suite.pin ? hashBytes[suite.pin] : 0) +
    (suite.sessionBytes ?? 0) +
    (suite.timeStepSeconds ? timeBytes : 0)
  );
}

const questionPatterns = { N: /^[0-9]+$/, A: /^[0-9A-Za-z]+$/, H: /^[0-9A-Fa-f]+$/ } as const;
const questionFormatNames = { N: 'decimal digits', A: 'alphanumeric characters', H: 'hex digits' } as const;

function checkQuestionPart(suite: OcraSuite, name: string, part: unknown): string {
  const text = assertString(name, part);
  const { format, lengthMax } = suite.question;
  if (text.length < 1 || text.length > lengthMax) {
    throw new RangeError(`"${name}" expected 1..${lengthMax} characters for Q${format}${String(lengthMax).padStart(2, '0')}, got ${text.length} (${describe(text)})`);
  }
  if (!questionPatterns[format].test(text)) {
    throw new RangeError(`"${name}" expected ${questionFormatNames[format]} for Q${format}, got ${describe(text)}`);
  }
  return text;
}

/** Decimal digits that always fit a double exactly (2^53 > 10^15), so the fast path needs no BigInt. */
const safeDecimalDigitsMax = 15;

/** The value of 1..min(lengthMax, 15) decimal digits, or -1 for anything else (left to the general path). */
export function shortDecimal(text: string, lengthMax: number): number {
  const length = text.length;
  if (length === 0 || length > lengthMax || length > safeDecimalDigitsMax) return -1;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Nibble value of an ASCII hex digit, or -1 (a lookup table: this is the hot path of every response). */
const nibbleOf = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  nibbleOf['0123456789abcdef'.charCodeAt(i)] = i;
  nibbleOf['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** Write hex digits left-aligned from `offset`; an odd count leaves the last byte's low nibble 0 (RFC 6287 Appendix A). */
function writeHexLeftAligned(hex: string, out: Uint8Array, offset: number): void {
  const whole = hex.length >> 1;
  for (let i = 0; i < whole; i++) {
    out[offset + i] = (nibbleOf[hex.charCodeAt(2 * i)]! << 4) | nibbleOf[hex.charCodeAt(2 * i + 1)]!;
  }
  if (hex.length & 1) out[offset + whole] = nibbleOf[hex.charCodeAt(hex.length - 1)]! << 4;
}

function questionText(suite: OcraSuite, challenge: OcraInputs['challenge']): string {
  if (typeof challenge === 'string') return checkQuestionPart(suite, 'challenge', challenge);
  if (Array.isArray(challenge) && challenge.length === 2) {
    return checkQuestionPart(suite, 'challenge[0]', challenge[0]) + checkQuestionPart(suite, 'challenge[1]', challenge[1]);
  }
  throw new TypeError(`"challenge" expected a string or a pair of strings, got ${describe(challenge)}`);
}

/** Bytes a question of `hexDigits` hex digits occupies, left-aligned. */
const hexBytes = (hexDigits: number) => (hexDigits + 1) >> 1;

/** Hex digits of a value below 2^32 ("0" has one). */
const hexDigitsOf = (value: number) => Math.max(1, (35 - Math.clz32(value)) >> 2);

export const uint32Limit = 2 ** 32;

/**
 * Write a numeric question below 2^32 as left-aligned hex (the N encoding), zeroing what an earlier write
 * left beyond it; returns the bytes written. The hot path of every card response: no string is built.
 */
export function writeSmallNumber(value: number, out: Uint8Array, offset: number, dirtyBytes: number): number {
  const hexDigits = hexDigitsOf(value);
  const written = hexBytes(hexDigits);
  let rest = value;
  let at = offset + written - 1;
  if (hexDigits & 1) {
    out[at--] = (rest & 0x0f) << 4; // an odd digit count leaves the low nibble of the last byte 0
    rest >>>= 4;
  }
  for (; at >= offset; at--) {
    out[at] = rest & 0xff;
    rest >>>= 8;
  }
  for (let i = written; i < dirtyBytes; i++) out[offset + i] = 0;
  return written;
}

/**
 * Write Q, the question, into its 128 bytes at `offset` (RFC 6287 §5.1 and Appendix A): N is the decimal number
 * in hex, A the ASCII bytes, H the hex digits; left-aligned and zero-filled on the right.
 *
 * `dirtyBytes` is how many question bytes at `offset` may be non-zero from an earlier write (all 128 when
 * unknown); only those are zeroed, so a reused buffer costs a few bytes per response instead of 128.
 * Returns how many bytes this write may have left non-zero: the `dirtyBytes` of the next call.
 */
export function writeQuestion(
  suite: OcraSuite,
  challenge: OcraInputs['challenge'],
  out: Uint8Array,
  offset: number,
  dirtyBytes: number = questionBytes,
): number {
  // The common case (a card's short numeric challenge) validates and encodes in one pass without building a
  // string; anything unusual, including every error, takes the general path so the messages stay the same.
  if (suite.question.format === 'N' && typeof challenge === 'string') {
    const value = shortDecimal(challenge, suite.question.lengthMax);
    if (value >= 0 && value < uint32Limit) return writeSmallNumber(value, out, offset, dirtyBytes);
  }
  const text = questionText(suite, challenge);
  out.fill(0, offset, offset + questionBytes);
  switch (suite.question.format) {
    case 'N': {
      const hex = text.length <= safeDecimalDigitsMax ? Number(text).toString(16) : BigInt(text).toString(16);
      writeHexLeftAligned(hex, out, offset);
      return hexBytes(hex.length);
    }
    case 'A':
      for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
      return text.length;
    case 'H':
      writeHexLeftAligned(text, out, offset);
      return hexBytes(text.length);
  }
}

/** A counter or time step: a safe-integer number stays a number (the common case, no BigInt on the hot path). */
function checkUint64(name: string, value: unknown): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`"${name}" expected an integer, got ${describe(value)}`);
    if (value < 0) throw new RangeError(`"${name}" expected 0..2^64-1, got ${value}`);
    return value;
  }
  if (typeof value !== 'bigint') throw new TypeError(`"${name}" expected an integer, got ${describe(value)}`);
  if (value < 0n || value > uint64Max) throw new RangeError(`"${name}" expected 0..2^64-1, got ${value}`);
  return value;
}

const twoPow32 = 2 ** 32;

/** Big-endian 8-byte integer, as C and T are encoded (§5.1). */
export function writeUint64(out: Uint8Array, offset: number, value: number | bigint): void {
  const high = typeof value === 'number' ? Math.floor(value / twoPow32) : Number(value >> 32n);
  const low = typeof value === 'number' ? value % twoPow32 : Number(value & 0xffffffffn);
  out[offset] = high >>> 24;
  out[offset + 1] = (high >>> 16) & 0xff;
  out[offset + 2] = (high >>> 8) & 0xff;
  out[offset + 3] = high & 0xff;
  out[offset + 4] = low >>> 24;
  out[offset + 5] = (low >>> 16) & 0xff;
  out[offset + 6] = (low >>> 8) & 0xff;
  out[offset + 7] = low & 0xff;
}

/**
 * Hash a PIN with the suite's P hash function (the "PSHA1" of the default DSC+ suite), over its UTF-8 bytes.
 * A short ASCII PIN (every PIN a card takes) is hashed on the shared core in one block: a verifier hashes one
 * on every miss of its key cache.
 */
export function hashPin(hash: HashName, pin: string): Uint8Array {
  assertString('pin', pin);
  if (pin.length === 0) throw new RangeError('"pin" expected at least one character, got ""');
  return shortAsciiDigest(hash, pin) ?? hashFunctions[hash](utf8ToBytes(pin));
}

/** The first input the suite does not use, if any (checked per response, so it allocates nothing). */
function unusedInput(suite: OcraSuite, inputs: OcraInputs): string | undefined {
  if (!suite.counter && inputs.counter !== undefined) return 'counter';
  if (!suite.pin && inputs.pin !== undefined) return 'pin';
  if (!suite.pin && inputs.pinHash !== undefined) return 'pinHash';
  if (suite.sessionBytes === undefined && inputs.session !== undefined) return 'session';
  if (suite.timeStepSeconds === undefined && inputs.timeStep !== undefined) return 'timeStep';
  return undefined;
}

/** Copy a short array byte by byte: for a 20..64-byte PIN hash this beats `set`'s call overhead. */
function copyInto(source: Uint8Array, out: Uint8Array, offset: number): void {
  for (let i = 0; i < source.length; i++) out[offset + i] = source[i]!;
}

/**
 * Write the DataInput for `inputs` into `out` (of `dataInputLength(suite)` bytes), reusing the buffer.
 * The suite prefix and separator are written once by the caller and left alone here; `dirtyBytes` and the
 * result are the question's, as in `writeQuestion` (a caller that cannot vouch for the buffer passes nothing).
 */
export function writeDataInput(suite: OcraSuite, inputs: OcraInputs, out: Uint8Array, dirtyBytes: number = questionBytes): number {
  if (typeof inputs !== 'object' || inputs === null) throw new TypeError(`"inputs" expected an object, got ${describe(inputs)}`);
  // An input the suite does not use would be silently ignored: almost always a caller's mistake.
  const unused = unusedInput(suite, inputs);
  if (unused !== undefined) throw new RangeError(`"${unused}" is not part of suite ${describe(suite.text)}`);
  let offset = suite.text.length + 1;

  if (suite.counter) {
    if (inputs.counter === undefined) throw new RangeError(`"counter" is required by suite ${describe(suite.text)}`);
    writeUint64(out, offset, checkUint64('counter', inputs.counter));
    offset += counterBytes;
  }

  const questionWritten = writeQuestion(suite, inputs.challenge, out, offset, dirtyBytes);
  offset += questionBytes;

  if (suite.pin) {
    const length = hashBytes[suite.pin];
    if (inputs.pin !== undefined && inputs.pinHash !== undefined) throw new RangeError('"pin" and "pinHash" given together; give one');
    if (inputs.pinHash !== undefined) {
      copyInto(assertBytes('pinHash', inputs.pinHash, length), out, offset);
    } else if (inputs.pin !== undefined) {
      const digest = hashPin(suite.pin, inputs.pin);
      out.set(digest, offset);
      digest.fill(0);
    } else {
      throw new RangeError(`"pin" is required by suite ${describe(suite.text)}`);
    }
    offset += length;
  }

  if (suite.sessionBytes !== undefined) {
    const session = assertBytes('session', inputs.session);
    if (session.length > suite.sessionBytes) {
      throw new RangeError(`"session" expected at most ${suite.sessionBytes} bytes, got ${session.length}`);
    }
    const pad = suite.sessionBytes - session.length;
    out.fill(0, offset, offset + pad);
    out.set(session, offset + pad);
    offset += suite.sessionBytes;
  }

  if (suite.timeStepSeconds !== undefined) {
    if (inputs.timeStep === undefined) throw new RangeError(`"timeStep" is required by suite ${describe(suite.text)}`);
    writeUint64(out, offset, checkUint64('timeStep', inputs.timeStep));
    offset += timeBytes;
  }
  return questionWritten;
}
