/**
 * The Luhn (mod 10) check digit, as PSKC `CheckDigits` (RFC 6030 §4.3.4) uses it on challenges:
 * the card can be set to expect one extra digit so that a mistyped challenge is caught on the card.
 */
import { assertString, describe } from './assert.ts';

const digitsPattern = /^[0-9]+$/;

function sumFrom(digits: string, doubleRightmost: boolean): number {
  let sum = 0;
  let double = doubleRightmost;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum;
}

/**
 * The check digit to append to `digits`.
 * @example
 * luhnCheckDigit('7992739871') // '3'
 */
export function luhnCheckDigit(digits: string): string {
  const text = assertString('digits', digits);
  if (!digitsPattern.test(text)) throw new RangeError(`"digits" expected decimal digits, got ${describe(text)}`);
  return String((10 - (sumFrom(text, true) % 10)) % 10);
}

/**
 * Whether the last digit of `digitsWithCheck` is the Luhn check digit of the others.
 * @example
 * luhnValid('79927398713') // true
 */
export function luhnValid(digitsWithCheck: string): boolean {
  const text = assertString('digitsWithCheck', digitsWithCheck);
  if (text.length < 2 || !digitsPattern.test(text)) {
    throw new RangeError(`"digitsWithCheck" expected at least 2 decimal digits, got ${describe(text)}`);
  }
  return sumFrom(text, false) % 10 === 0;
}
