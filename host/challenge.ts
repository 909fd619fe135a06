/**
 * Challenge generation: uniform random decimal digits (first digit non-zero) from a cryptographic source (rejection sampling, so no
 * modulo bias), with the Luhn check digit appended when the card expects one (the card strips it again before
 * computing: firmware/machine.ts submitChallenge). Security Code Card challenges are two distinct indexes.
 */
import { luhnCheckDigit } from '../firmware/luhn.ts';

/**
 * A cryptographic random source: `bytes` fresh random bytes per call. It may also offer `uint32()` (four such
 * bytes, big-endian, as a number) to spare the hot path an array per draw; callers fall back to 4 bytes.
 */
export type Random = ((bytes: number) => Uint8Array) & { readonly uint32?: () => number };

function uint32Of(random: Random): number {
  if (random.uint32) return random.uint32();
  const bytes = random(4);
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/** The card's challenge is exactly its suite's question length (QN06 -> 6 digits); it refuses fewer. */
export function randomDigits(random: Random, count: number): string {
  let out = '';
  while (out.length < count) {
    const value = uint32Of(random);
    // 4_000_000_000 is the largest multiple of 10^9 below 2^32: values above it would favour low digits.
    if (value >= 4_000_000_000) continue;
    out += String(value % 1_000_000_000).padStart(9, '0');
  }
  return out.slice(0, count);
}

/** 4_294_967_292 is the largest multiple of 9 below 2^32: values at or above it would favour low digits. */
const firstDigitDrawMax = 4_294_967_292;

/** A uniform digit 1-9: the first digit of a challenge. */
function firstDigit(random: Random): string {
  for (;;) {
    const value = uint32Of(random);
    if (value < firstDigitDrawMax) return String(1 + (value % 9));
  }
}

/** Challenges of up to 9 digits (9 · 10^8 values, fewer than 2^32) are drawn as one number: one draw, one string. */
const oneDrawDigitsMax = 9;
const uint32Values = 2 ** 32;

/** A uniform number in [10^(digits-1), 10^digits), as text: the common case (a card's 6-digit challenge). */
function drawOneNumber(random: Random, digits: number): string {
  const lowest = 10 ** (digits - 1);
  const count = 9 * lowest;
  // The largest multiple of `count` not above 2^32: draws at or above it would favour the low values.
  const drawLimit = Math.floor(uint32Values / count) * count;
  for (;;) {
    const value = uint32Of(random);
    if (value < drawLimit) return String(lowest + (value % count));
  }
}

/**
 * The challenge as shown and typed: `digits` random digits, never starting with 0, plus the Luhn digit when
 * `checkDigit`.
 *
 * Why never a leading 0: OCRA turns a numeric question into hex and left-aligns it (RFC 6287 §5.1, Appendix A),
 * so values that differ by a factor of 16^k encode alike: "000004" (hex 4) and "000064" (hex 40) give the same
 * response, and a response seen for one answers the other. Drawing only from [10^(n-1), 10^n), where no two
 * values are a factor of 16 apart, means no two challenges this server issues can ever share a response.
 */
export function drawChallenge(random: Random, digits: number, checkDigit: boolean): string {
  const body = digits <= oneDrawDigitsMax ? drawOneNumber(random, digits) : firstDigit(random) + randomDigits(random, digits - 1);
  return checkDigit ? body + luhnCheckDigit(body) : body;
}

/** The OCRA question for a shown challenge: the check digit is only for catching typos. */
export function questionOf(shown: string, checkDigit: boolean): string {
  return checkDigit ? shown.slice(0, -1) : shown;
}

/** A uniform integer in [0, bound) for bound ≤ 2^16. */
export function randomBelow(random: Random, bound: number): number {
  const limit = Math.floor(65_536 / bound) * bound;
  for (;;) {
    const b = random(2);
    const v = (b[0]! << 8) | b[1]!;
    if (v < limit) return v % bound;
  }
}
