/**
 * Small boundary checks that return the checked value, in the manner of noble-hashes `abytes`/`anumber`.
 * Messages always name the value: `"challenge" expected 6 digits, got "12a456"`.
 * TypeError for a wrong type, RangeError for a wrong length, range or format.
 */

/** Quote a value for an error message without ever printing more than a short prefix. */
export function describe(value: unknown): string {
  const quoteCharsMax = 80;
  if (typeof value === 'string') {
    const shown = value.length > quoteCharsMax ? `${value.slice(0, quoteCharsMax)}…` : value;
    return JSON.stringify(shown);
  }
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array(${value.length})`;
  if (typeof value === 'bigint') return `${value}n`;
  return typeof value === 'object' ? 'object' : String(value);
}

export function assertString(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`"${name}" expected a string, got ${describe(value)}`);
  return value;
}

export function assertBytes(name: string, value: unknown, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`"${name}" expected Uint8Array, got ${describe(value)}`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`"${name}" expected ${length} bytes, got ${value.length}`);
  }
  return value;
}

/** A safe non-negative integer within [min, max]. */
export function assertInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`"${name}" expected an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) throw new RangeError(`"${name}" expected ${min}..${max}, got ${value}`);
  return value;
}

const hexPattern = /^[0-9a-fA-F]*$/;

/**
 * Even-length hex to bytes, naming the bad value on failure. A `secret` (a key, a seed, a PIN hash) is
 * described by where it goes wrong, never echoed: a mistyped key is still a key, and stderr ends up in logs.
 */
export function hexToBytesNamed(name: string, value: unknown, secret = false): Uint8Array {
  const hex = assertString(name, value);
  if (!hexPattern.test(hex)) {
    const at = hex.search(/[^0-9a-fA-F]/);
    const shown = secret ? `a non-hex character at position ${at + 1} of ${hex.length}` : describe(hex);
    throw new RangeError(`"${name}" expected hex digits, got ${shown}`);
  }
  if (hex.length % 2 !== 0) throw new RangeError(`"${name}" expected an even number of hex digits, got ${hex.length}`);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

export function isHex(value: string): boolean {
  return hexPattern.test(value);
}

/** Exhaustiveness check for `switch` over tagged unions: a new tag that is not handled fails to compile. */
export function assertNever(value: never, what = 'value'): never {
  throw new TypeError(`unexpected ${what}: ${describe((value as { type?: unknown })?.type ?? value)}`);
}
