/**
 * The one constant-time compare of the project, for every secret-dependent equality (a PIN check value, an
 * unlock code, a response, a temporary code): @noble/ciphers' `equalBytes`, whose time depends only on the
 * lengths, which are public (a response's length is its suite's). Strings are compared as their UTF-16 code
 * units, so two different strings never encode alike (UTF-8 would map every lone surrogate to the same bytes).
 */
import { equalBytes } from '@noble/ciphers/utils.js';

export { equalBytes };

function codeUnits(text: string): Uint8Array {
  const units = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
  return new Uint8Array(units.buffer);
}

/**
 * Constant-time equality of two strings.
 * @example
 * equalStrings('12345678', '12345679') // false
 */
export function equalStrings(a: string, b: string): boolean {
  return equalBytes(codeUnits(a), codeUnits(b));
}
